//! Which dockerd regctl's daemon.json rules assume. dockerd's verdict on the same file differs by
//! version (20.10 refuses a byte-order mark and a mirror URL with a path; 23.0+ reads both) and
//! its registry behaviour by image store (the containerd store drops `http://` from mirrors),
//! so every rule that differs is keyed on a `Target`: the engine version (from `dockerd
//! --version`, an override, or a stated default) and the image store (daemon.json `features`,
//! else the version's default). Reports that apply such a rule say which dockerd they assumed.

use std::fmt;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

/// An Engine release, major.minor (patch releases do not change configuration rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EngineVersion {
    pub major: u32,
    pub minor: u32,
}

impl EngineVersion {
    /// Assumed when there is neither an override nor a dockerd on PATH: the current Engine.
    pub const DEFAULT: EngineVersion = EngineVersion::new(29, 0);

    pub const fn new(major: u32, minor: u32) -> EngineVersion {
        EngineVersion { major, minor }
    }

    /// `26`, `26.1`, `26.1.5`, `v26.1.5+dfsg1`, `28.5.2-1`: the major and minor parts.
    pub fn parse(text: &str) -> Option<EngineVersion> {
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let mut parts = t.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let rest = &t[t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len())..];
        let minor = match rest.strip_prefix('.') {
            Some(r) => {
                let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
                if digits.is_empty() {
                    return None;
                }
                digits.parse().ok()?
            }
            None if rest.is_empty() => 0,
            None => return None,
        };
        // Engine numbering: 1.x, 17.03-20.10 (year.month), then 23 and later.
        (1..1000)
            .contains(&major)
            .then_some(EngineVersion { major, minor })
    }

    /// From `dockerd --version`: `Docker version 26.1.5+dfsg1, build 411e817`.
    pub fn from_version_output(output: &str) -> Option<EngineVersion> {
        let rest = output.trim().strip_prefix("Docker version ")?;
        EngineVersion::parse(rest.split([',', ' ']).next()?)
    }

    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= EngineVersion::new(major, minor)
    }
}

/// For `--dockerd-version`.
impl std::str::FromStr for EngineVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<EngineVersion, String> {
        EngineVersion::parse(s)
            .ok_or_else(|| format!("{s:?} is not a dockerd version such as 26.1 or 28.5.2"))
    }
}

impl fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Where the version came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// `--dockerd-version` or REGCTL_DOCKERD_VERSION.
    Override,
    /// `dockerd --version` of this binary.
    Binary(PathBuf),
    /// Neither: `EngineVersion::DEFAULT`.
    Default,
}

/// The dockerd whose rules apply, before daemon.json is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub version: EngineVersion,
    pub source: VersionSource,
}

impl Engine {
    pub fn default_engine() -> Engine {
        Engine {
            version: EngineVersion::DEFAULT,
            source: VersionSource::Default,
        }
    }

    /// The engine with the image store that `config` (daemon.json) selects.
    pub fn target(&self, config: &Map<String, Value>) -> Target {
        let feature = config
            .get("features")
            .and_then(|f| f.get("containerd-snapshotter"))
            .and_then(Value::as_bool);
        // The containerd-snapshotter feature exists since 24.0; older dockerds ignore it.
        let feature = feature.filter(|_| self.version.at_least(24, 0));
        let (store, store_source) = match feature {
            Some(true) => (ImageStore::Containerd, StoreSource::Features),
            Some(false) => (ImageStore::Classic, StoreSource::Features),
            None if self.version.at_least(29, 0) => {
                (ImageStore::Containerd, StoreSource::VersionDefault)
            }
            None => (ImageStore::Classic, StoreSource::VersionDefault),
        };
        Target {
            engine: self.clone(),
            store,
            store_source,
        }
    }
}

/// Where images live, which decides how dockerd talks to registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStore {
    /// The graph drivers (overlay2, ...) and moby's own distribution code.
    Classic,
    /// containerd's snapshotters and containerd's resolver (`containerd-snapshotter`).
    Containerd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreSource {
    /// daemon.json `features.containerd-snapshotter`.
    Features,
    /// The version's default: classic before Engine 29; containerd from 29 on new installs.
    VersionDefault,
}

/// A dockerd version with its image store: what version- and store-specific rules key on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub engine: Engine,
    pub store: ImageStore,
    pub store_source: StoreSource,
}

impl Target {
    pub fn version(&self) -> EngineVersion {
        self.engine.version
    }

    /// dockerd decodes UTF-8 and UTF-16 with a byte-order mark (moby `getConflictFreeConfiguration`,
    /// `unicode.BOMOverride`, since 23.0); 20.10 hands the raw bytes to the JSON decoder.
    pub fn reads_bom(&self) -> bool {
        self.version().at_least(23, 0)
    }

    /// An empty (or white-space only) daemon.json is an empty configuration since 23.0; older
    /// versions fail on it ("EOF").
    pub fn accepts_empty_file(&self) -> bool {
        self.version().at_least(23, 0)
    }

    /// `registry.ValidateMirror` refuses a path before 25.0 and accepts it since.
    pub fn mirror_path_allowed(&self) -> bool {
        self.version().at_least(25, 0)
    }

    /// The containerd store before 28.0 turns an `http://` mirror into an HTTPS host (moby 28.0
    /// daemon/hosts.go `mirrorsToRegistryHosts` keeps the scheme; 26.1 was seen to drop it).
    pub fn drops_http_mirror_scheme(&self) -> bool {
        self.containerd_store() && !self.version().at_least(28, 0)
    }

    pub fn containerd_store(&self) -> bool {
        self.store == ImageStore::Containerd
    }

    /// "dockerd 26.1 (from /usr/sbin/dockerd --version), classic image store (26.1's default)".
    pub fn describe(&self) -> String {
        let version = self.version();
        let from = match &self.engine.source {
            VersionSource::Override => "--dockerd-version".to_string(),
            VersionSource::Binary(p) => format!("{} --version", p.display()),
            VersionSource::Default => {
                "no dockerd on PATH: regctl's default; set --dockerd-version".to_string()
            }
        };
        let store = match self.store {
            ImageStore::Classic => "classic",
            ImageStore::Containerd => "containerd",
        };
        let store_from = match self.store_source {
            StoreSource::Features => "daemon.json features".to_string(),
            StoreSource::VersionDefault if version.at_least(29, 0) => {
                format!("{version}'s default for new installs")
            }
            StoreSource::VersionDefault => format!("{version}'s default"),
        };
        format!("dockerd {version} ({from}), {store} image store ({store_from})")
    }

    /// The same as JSON, for `-o json` output.
    pub fn to_json(&self) -> Value {
        json!({
            "version": self.version().to_string(),
            "version_source": match &self.engine.source {
                VersionSource::Override => "override",
                VersionSource::Binary(_) => "dockerd --version",
                VersionSource::Default => "default",
            },
            "image_store": match self.store {
                ImageStore::Classic => "classic",
                ImageStore::Containerd => "containerd",
            },
            "image_store_source": match self.store_source {
                StoreSource::Features => "features",
                StoreSource::VersionDefault => "version default",
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_flags_and_from_dockerd_version() {
        let v = |s| EngineVersion::parse(s).map(|v| v.to_string());
        assert_eq!(v("26.1").as_deref(), Some("26.1"));
        assert_eq!(v("v28.5.2+dfsg4").as_deref(), Some("28.5"));
        assert_eq!(v("20.10.24").as_deref(), Some("20.10"));
        assert_eq!(v("29").as_deref(), Some("29.0"));
        for bad in ["", "x", "26.", "26.x", "0.1", "26a"] {
            assert_eq!(v(bad), None, "{bad:?}");
        }
        assert_eq!(
            EngineVersion::from_version_output("Docker version 20.10.24+dfsg1, build 297e128\n"),
            Some(EngineVersion::new(20, 10))
        );
        assert_eq!(
            EngineVersion::from_version_output("Docker version 28.5.2+dfsg4, build 3ef3c07"),
            Some(EngineVersion::new(28, 5))
        );
        assert_eq!(EngineVersion::from_version_output("dockerd 1.0"), None);
    }

    #[test]
    fn the_store_comes_from_features_else_from_the_version() {
        let engine = |major, minor| Engine {
            version: EngineVersion::new(major, minor),
            source: VersionSource::Override,
        };
        let on: Map<String, Value> =
            serde_json::from_str(r#"{"features": {"containerd-snapshotter": true}}"#).unwrap();
        let off: Map<String, Value> =
            serde_json::from_str(r#"{"features": {"containerd-snapshotter": false}}"#).unwrap();
        let none = Map::new();
        assert!(engine(26, 1).target(&on).containerd_store());
        assert!(!engine(20, 10).target(&on).containerd_store());
        assert!(!engine(26, 1).target(&none).containerd_store());
        assert!(engine(29, 0).target(&none).containerd_store());
        assert!(!engine(29, 0).target(&off).containerd_store());
        assert!(engine(29, 0)
            .target(&none)
            .describe()
            .contains("29.0's default for new installs"));
    }
}

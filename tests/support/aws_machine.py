#!/usr/bin/env python3
"""Loopback stand-ins for the AWS credential endpoints that only exist on AWS's own machines,
for regctl's ECR tests. None of the real ones can run here: the EC2 instance metadata service
answers only on an EC2 instance, the ECS / EKS Pod Identity container endpoints only inside a
task or pod, and the IAM Identity Center portal and OIDC service only at AWS. So:

- Instance metadata is moto_server's own (moto answers /latest/meta-data/... in server mode);
  this front adds what moto does not enforce: IMDSv2. It hands out its own session token on
  PUT /latest/api/token (with the TTL header), forwards GETs carrying that token to moto, and
  answers 401 to GETs without it when IMDSv1 is off, as EC2 does with HttpTokens=required.
  token_put "hang" keeps a PUT unanswered (what the hop limit does to a container's request),
  "forbidden" answers 403 (IMDSv2 disabled on the instance).
- The container endpoint answers GET PATH with the configured keys when the Authorization
  header is the configured token, 401 otherwise (as the EKS Pod Identity agent does).
- The SSO portal answers GET /federation/credentials?role_name=&account_id= when
  x-amz-sso_bearer_token is a token it knows (401 UnauthorizedException otherwise), and SSO OIDC
  POST /token (grant_type refresh_token) swaps the configured refresh token for a new access
  token, which the portal then knows.

Usage: aws_machine.py CONFIG.json; prints its port, then serves until killed.
GET /_stats gives the number of answered requests per kind (imds-token, imds-get, container,
sso, sso-oidc) and the kinds refused.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class State:
    def __init__(self, config):
        self.config = config
        self.stats = {}
        self.lock = threading.Lock()
        self.imds_token = "regctl-test-imds-session-token"
        sso = config.get("sso") or {}
        self.sso_tokens = set(sso.get("access_tokens", []))

    def count(self, kind):
        with self.lock:
            self.stats[kind] = self.stats.get(kind, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        length = int(self.headers.get("content-length", "0"))
        if length:
            self.rfile.read(length)
        imds = self.state.config.get("imds")
        if imds is None or self.path != "/latest/api/token":
            return self.send(404, "not found", "text/plain")
        mode = imds.get("token_put", "ok")
        if mode == "hang":
            self.state.count("imds-token-hang")
            time.sleep(30)
            return
        if mode == "forbidden":
            self.state.count("imds-token-forbidden")
            return self.send(403, "Forbidden", "text/plain")
        if not self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            return self.send(400, "Missing x-aws-ec2-metadata-token-ttl-seconds", "text/plain")
        self.state.count("imds-token")
        self.send(200, self.state.imds_token, "text/plain")

    def do_GET(self):
        config = self.state.config
        url = urlparse(self.path)
        if url.path == "/_stats":
            with self.state.lock:
                return self.send(200, json.dumps(self.state.stats))
        if url.path.startswith("/latest/") and config.get("imds") is not None:
            return self.imds_get()
        container = config.get("container")
        if container is not None and url.path == container["path"]:
            return self.container()
        if url.path == "/federation/credentials" and config.get("sso") is not None:
            return self.sso_portal(parse_qs(url.query))
        self.send(404, json.dumps({"message": f"no such path {url.path}"}))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/token" and self.state.config.get("sso") is not None:
            return self.sso_oidc(body)
        self.send(404, json.dumps({"message": "not found"}))

    def imds_get(self):
        imds = self.state.config["imds"]
        token = self.headers.get("x-aws-ec2-metadata-token")
        if token is not None and token != self.state.imds_token:
            self.state.count("imds-refused")
            return self.send(401, "", "text/plain")
        if token is None and not imds.get("v1_allowed", False):
            self.state.count("imds-refused")
            return self.send(401, "", "text/plain")
        upstream = urllib.request.Request(self.state.config["upstream"] + self.path, method="GET")
        try:
            with urllib.request.urlopen(upstream, timeout=10) as resp:
                status, data = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        self.state.count("imds-get")
        self.send(status, data, "text/plain")

    def container(self):
        container = self.state.config["container"]
        if self.headers.get("authorization") != container["token"]:
            self.state.count("container-refused")
            return self.send(401, json.dumps({
                "code": "AccessDeniedException",
                "message": "the pod identity token is invalid or expired",
            }))
        self.state.count("container")
        self.send(200, json.dumps(container["credentials"]))

    def sso_portal(self, query):
        sso = self.state.config["sso"]
        token = self.headers.get("x-amz-sso_bearer_token")
        with self.state.lock:
            known = token in self.state.sso_tokens
        if not known:
            self.state.count("sso-refused")
            return self.send(401, json.dumps({"message": "Session token not found or invalid"}),
                             headers={"x-amzn-ErrorType": "UnauthorizedException:http://internal.amazon.com/coral/com.amazon.switchboard.portal/"})
        if query.get("role_name") != [sso["role_name"]] or query.get("account_id") != [sso["account_id"]]:
            self.state.count("sso-refused")
            return self.send(403, json.dumps({"message": "No access"}),
                             headers={"x-amzn-ErrorType": "ForbiddenException"})
        self.state.count("sso")
        creds = dict(sso["credentials"])
        creds["expiration"] = int((time.time() + 3600) * 1000)
        self.send(200, json.dumps({"roleCredentials": creds}))

    def sso_oidc(self, body):
        refresh = self.state.config["sso"].get("refresh") or {}
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        wanted = {
            "grantType": "refresh_token",
            "clientId": refresh.get("client_id"),
            "clientSecret": refresh.get("client_secret"),
            "refreshToken": refresh.get("refresh_token"),
        }
        if not refresh or any(doc.get(k) != v for k, v in wanted.items()):
            self.state.count("sso-oidc-refused")
            return self.send(400, json.dumps({"error": "invalid_grant", "error_description": "Invalid refresh token provided"}),
                             headers={"x-amzn-ErrorType": "InvalidGrantException"})
        with self.state.lock:
            self.state.sso_tokens.add(refresh["new_access_token"])
        self.state.count("sso-oidc")
        self.send(200, json.dumps({
            "accessToken": refresh["new_access_token"],
            "expiresIn": 28800,
            "refreshToken": refresh["refresh_token"] + "-next",
            "tokenType": "Bearer",
        }))


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    Handler.state = State(config)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

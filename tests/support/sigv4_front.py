#!/usr/bin/env python3
"""A strict AWS front for regctl's ECR tests, in front of moto_server on 127.0.0.1.

moto answers GetAuthorizationToken but checks no signature and returns an expiresAt of 2015.
This front does what AWS does before a request reaches the service: it recomputes the SigV4
signature with botocore from the request as received and rejects a wrong one
(InvalidSignatureException), rejects unknown access keys (UnrecognizedClientException), expired
sessions (ExpiredTokenException), identities without permission (AccessDeniedException), a
signature scoped to the wrong service, or a clock more than 15 minutes off. Accepted requests go
to moto; ECR answers get an expiresAt in the future, in AWS's exponent notation. moto has no ECR
Public GetAuthorizationToken (it answers 500), so the front mints that token itself after the
same checks. Keys that STS AssumeRole hands out through the front are learned, as AWS would.
AssumeRoleWithWebIdentity is unsigned at AWS too (the JWT is the proof): the front accepts it
only with a token passed as --web-identity-token (InvalidIdentityToken otherwise, which is what
STS says when the OIDC provider does not vouch for it), then moto answers and its keys are learned.

Usage: sigv4_front.py --upstream http://127.0.0.1:PORT --keys keys.json [--expires-in SECONDS]
       [--web-identity-token TOKEN]...
keys.json: {"AKID": {"secret": "...", "session_token": null, "behaviour": "allow"}}, where
behaviour is allow, deny, expired or garbage-token (an authorizationToken that is not base64).
Prints the port it listens on, then serves until killed. GET /_front/stats gives the number of
accepted requests per service.
"""

import argparse
import base64
import calendar
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<sig>[0-9a-f]{64})$"
)
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


class State:
    def __init__(self, upstream, keys, expires_in, web_identity_tokens=()):
        self.web_identity_tokens = set(web_identity_tokens)
        self.upstream = upstream
        self.keys = keys
        self.expires_in = expires_in
        self.stats = {}
        self.lock = threading.Lock()

    def count(self, service):
        with self.lock:
            self.stats[service] = self.stats.get(service, 0) + 1

    def key(self, akid):
        with self.lock:
            return self.keys.get(akid)

    def learn(self, akid, secret, token):
        with self.lock:
            self.keys[akid] = {"secret": secret, "session_token": token, "behaviour": "allow"}


class Reject(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def service_of(headers, body):
    target = headers.get("x-amz-target", "")
    if target.startswith("AmazonEC2ContainerRegistry_V20150921."):
        return "ecr"
    if target.startswith("SpencerFrontendService."):
        return "ecr-public"
    if b"Action=" in body:
        return "sts"
    raise Reject(400, "UnknownOperationException", "no X-Amz-Target and no Action")


def verify(state, headers, path, body, service):
    auth = headers.get("authorization")
    if not auth:
        raise Reject(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
    m = AUTH_RE.match(auth)
    if not m:
        raise Reject(400, "IncompleteSignatureException", f"malformed Authorization header: {auth!r}")
    if m["service"] != service:
        raise Reject(403, "InvalidSignatureException",
                     f"Credential should be scoped to correct service: '{service}'.")
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise Reject(400, "IncompleteSignatureException", f"bad X-Amz-Date {amz_date!r}")
    if abs(time.time() - signed_at) > 15 * 60:
        raise Reject(403, "InvalidSignatureException", f"Signature expired: {amz_date}")
    if m["date"] != amz_date[:8]:
        raise Reject(403, "InvalidSignatureException", "credential scope date does not match X-Amz-Date")
    key = state.key(m["akid"])
    if key is None:
        raise Reject(400, "UnrecognizedClientException",
                     "The security token included in the request is invalid.")
    if key.get("session_token") and headers.get("x-amz-security-token") != key["session_token"]:
        raise Reject(400, "UnrecognizedClientException",
                     "The security token included in the request is invalid.")
    signed = m["signed"].split(";")
    if "host" not in signed:
        raise Reject(403, "InvalidSignatureException", "the host header must be signed")
    request = AWSRequest(
        method="POST",
        url=f"http://{headers['host']}{path}",
        data=body,
        headers={h: headers[h] for h in signed if headers.get(h) is not None},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(m["akid"], key["secret"], key.get("session_token")),
                       m["service"], m["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != m["sig"]:
        raise Reject(403, "InvalidSignatureException",
                     "The request signature we calculated does not match the signature you provided. "
                     "Check your AWS Secret Access Key and signing method. Consult the service "
                     "documentation for details.")
    behaviour = key.get("behaviour", "allow")
    if behaviour == "expired":
        raise Reject(400, "ExpiredTokenException",
                     "The security token included in the request is expired")
    if behaviour == "deny":
        raise Reject(400, "AccessDeniedException",
                     f"User: arn:aws:iam::123456789012:user/denied is not authorized to perform: "
                     f"{service}:GetAuthorizationToken on resource: * because no identity-based "
                     f"policy allows the {service}:GetAuthorizationToken action")
    return m["akid"], behaviour


def aws_exponent(seconds):
    """AWS writes epoch seconds like 1.795000123456E9."""
    mantissa, exponent = f"{seconds:.12E}".split("E")
    return f"{mantissa}E{int(exponent)}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "regctl-test-front")
        self.end_headers()
        self.wfile.write(data)

    def reject(self, service, r):
        if service == "sts":
            body = (f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>{r.code}</Code>'
                    f"<Message>{r.message}</Message></Error><RequestId>x</RequestId></ErrorResponse>")
            self.send(r.status, body, "text/xml")
        else:
            self.send(r.status, json.dumps({"__type": r.code, "message": r.message}),
                      "application/x-amz-json-1.1")

    def do_GET(self):
        if self.path == "/_front/stats":
            with self.state.lock:
                self.send(200, json.dumps(self.state.stats), "application/json")
        else:
            self.send(404, "not found", "text/plain")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        service = "ecr"
        try:
            service = service_of(headers, body)
            if service == "sts" and b"Action=AssumeRoleWithWebIdentity" in body:
                return self.web_identity(headers, body)
            akid, behaviour = verify(self.state, headers, self.path, body, service)
            if service == "ecr-public":
                self.public_token(headers, body, akid)
            else:
                self.forward(headers, body, service, behaviour)
            self.state.count(service)
        except Reject as r:
            self.reject(service, r)

    def web_identity(self, headers, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        if form.get("WebIdentityToken") not in self.state.web_identity_tokens:
            raise Reject(400, "InvalidIdentityToken",
                         "Couldn't retrieve verification key from your identity provider")
        for required in ("RoleArn", "RoleSessionName"):
            if not form.get(required):
                raise Reject(400, "ValidationError", f"{required} is required")
        self.forward(headers, body, "sts", "allow")
        self.state.count("sts-web-identity")

    def public_token(self, headers, body, akid):
        if headers.get("x-amz-target") != PUBLIC_TARGET:
            raise Reject(400, "UnknownOperationException", headers.get("x-amz-target", ""))
        if json.loads(body or b"null") != {}:
            raise Reject(400, "SerializationException", "GetAuthorizationToken takes {}")
        token = base64.b64encode(f"AWS:ecr-public-token-for-{akid}".encode()).decode()
        doc = json.dumps({"authorizationData": {"authorizationToken": token, "expiresAt": "__EXP__"}})
        exp = aws_exponent(time.time() + self.state.expires_in)
        self.send(200, doc.replace('"__EXP__"', exp), "application/x-amz-json-1.1")

    def forward(self, headers, body, service, behaviour):
        if service == "ecr" and headers.get("x-amz-target") != ECR_TARGET:
            raise Reject(400, "UnknownOperationException", headers.get("x-amz-target", ""))
        upstream = urllib.request.Request(self.state.upstream + self.path, data=body, method="POST")
        for name, value in headers.items():
            if name not in ("host", "content-length", "connection"):
                upstream.add_header(name, value)
        try:
            with urllib.request.urlopen(upstream, timeout=20) as resp:
                status, data, ctype = resp.status, resp.read(), resp.headers.get("content-type", "")
        except urllib.error.HTTPError as e:
            status, data, ctype = e.code, e.read(), e.headers.get("content-type", "")
        if status == 200 and service == "ecr":
            doc = json.loads(data)
            exp = aws_exponent(time.time() + self.state.expires_in)
            for item in doc.get("authorizationData", []):
                item["expiresAt"] = "__EXP__"
                if behaviour == "garbage-token":
                    item["authorizationToken"] = "this is not base64!"
            data = json.dumps(doc).replace('"__EXP__"', exp).encode()
        if status == 200 and service == "sts":
            root = ET.fromstring(data)
            creds = root.find(f".//{{{STS_NS}}}Credentials")
            if creds is not None:
                get = lambda tag: creds.find(f"{{{STS_NS}}}{tag}").text
                self.state.learn(get("AccessKeyId"), get("SecretAccessKey"), get("SessionToken"))
        self.send(status, data, ctype or "application/octet-stream")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--keys", required=True)
    parser.add_argument("--expires-in", type=float, default=12 * 3600)
    parser.add_argument("--web-identity-token", action="append", default=[])
    args = parser.parse_args()
    with open(args.keys) as f:
        keys = json.load(f)
    Handler.state = State(args.upstream.rstrip("/"), keys, args.expires_in, args.web_identity_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

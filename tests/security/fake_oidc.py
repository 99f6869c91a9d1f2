"""A small OpenID Connect provider on 127.0.0.1 for the single sign-on tests: RS256, nonce, PKCE."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "urn:gov:gsa:openidconnect.profiles:sp:sso:omb:challenge-cards-test"


class FakeProvider:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key"
        self.pending: dict[str, dict] = {}  # code -> {nonce, challenge, claims}
        self.token_requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def settings(self) -> dict:
        return {
            "SSO_ENABLED": True,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": "",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.url}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.url}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.url}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.url}/jwks",
        }

    def approve(self, *, nonce: str, challenge: str, email: str, verified: bool = True, acr: str = "") -> str:
        """What the provider does when the person signs in there: a one-time code for these claims
        (`acr`: the level of assurance the provider says it used, in the ID token)."""
        code = secrets.token_urlsafe(16)
        claims = {"sub": "user-" + hashlib.sha256(email.encode()).hexdigest()[:12], "email": email}
        claims["email_verified"] = verified
        if acr:
            claims["acr"] = acr
        self.pending[code] = {"nonce": nonce, "challenge": challenge, "claims": claims}
        return code

    def _id_token(self, claims: dict, nonce: str) -> str:
        now = int(time.time())
        payload = {**claims, "iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/jwks":
                    jwk = json.loads(RSAAlgorithm.to_jwk(provider.key.public_key()))
                    self._json(200, {"keys": [{**jwk, "kid": provider.kid, "alg": "RS256", "use": "sig"}]})
                elif self.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    grant = next((g for g in provider.pending.values() if g.get("access_token") == token), None)
                    self._json(200, grant["claims"]) if grant else self._json(401, {"error": "invalid_token"})
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self):
                form = {
                    k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()
                }
                provider.token_requests.append(form)
                grant = provider.pending.get(form.get("code", ""))
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if self.path != "/token" or grant is None or "access_token" in grant or digest != grant["challenge"]:
                    self._json(400, {"error": "invalid_grant"})
                    return
                grant["access_token"] = secrets.token_urlsafe(16)
                self._json(
                    200,
                    {
                        "access_token": grant["access_token"],
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider._id_token(grant["claims"], grant["nonce"]),
                    },
                )

        return Handler

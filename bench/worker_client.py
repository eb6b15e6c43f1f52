"""What the benchmark clients share: tokens signed with the stack's JWT secret, and JSON calls to the Worker.

`WorkerClient(url, vars_file)`: `token(sub, role)`, `admin` (a service_role token) and `call(method, path, body,
bearer)` → (status, JSON reply).
"""
import base64, hashlib, hmac, json, time, urllib.error, urllib.request


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class WorkerClient:
    def __init__(self, url, vars_file):
        self.url = url
        self.settings = dict(line.split("=", 1) for line in open(vars_file).read().splitlines() if "=" in line
                             and not line.startswith("#"))
        self.secret = self.settings["SUPABASE_JWT_SECRET"].encode()
        self.admin = self.token(role="service_role")

    def token(self, sub=None, role="authenticated"):
        claims = {"aud": self.settings.get("JWT_AUDIENCE") or "authenticated", "exp": int(time.time()) + 3600,
                  "iat": int(time.time()), "role": role}
        if self.settings.get("JWT_ISSUER"):
            claims["iss"] = self.settings["JWT_ISSUER"]
        if sub:
            claims["sub"] = sub
        signed = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
        return signed + "." + b64(hmac.new(self.secret, signed.encode(), hashlib.sha256).digest())

    def call(self, method, path, body, bearer):
        request = urllib.request.Request(self.url + path,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         method=method, headers={"Authorization": "Bearer " + bearer,
                                                                 "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

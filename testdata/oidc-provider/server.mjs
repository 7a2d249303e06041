// A real OAuth 2.0 authorization server (panva/oidc-provider) for bouncer's
// integration tests. It issues client-credentials access tokens as signed
// JWTs (RFC 9068) or as opaque tokens, and serves discovery, JWKS,
// introspection and revocation.
//
// Usage: node server.mjs
//
// Environment:
//   PORT              port to listen on (default 0: pick a free one)
//   ACCESS_TOKEN_TTL  access token lifetime in seconds (default 300)
//
// It always listens on 127.0.0.1 and prints exactly one line
// "READY <issuer-url>" to stdout once it serves requests. It exits when its
// standard input closes, or on SIGTERM/SIGINT, so a test that dies does not
// leave it behind. Diagnostics go to stderr and never contain secrets.
//
// Lines written to its standard input are commands:
//   withdraw <kid>    stop publishing that signing key in the JWKS, as an
//                     issuer withdraws a compromised key (tokens it signed
//                     still carry its kid, and it keeps signing with it)
//
// The clients, resources and scopes below are fixed: the Go helper package
// examples/internal/oidcprovider mirrors them as constants. Change both
// together.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';
const PORT = parseNonNegativeInt('PORT', 0);
const ACCESS_TOKEN_TTL = parseNonNegativeInt('ACCESS_TOKEN_TTL', 300) || 300;

const AUDIENCE = 'country-api';
const OTHER_AUDIENCE = 'other-api';
const API_SCOPES = ['country.read', 'customer.read'];

function parseNonNegativeInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`invalid ${name}: ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

// --- signing keys -----------------------------------------------------------
// Fresh keys on every start: one per asymmetric algorithm, each pinned to one
// alg. The kid carries a random suffix so that keys of two server instances
// never share a kid.

// The pair is generated in PKCS#8 form and imported anew rather than used as
// generated: Node.js 20 can deadlock (one start in ten, at no CPU) when the
// garbage collector frees a synchronous key-generation job while its key is
// being exported as a JWK.
function signingKey(alg, type, options) {
  const { privateKey: pkcs8 } = crypto.generateKeyPairSync(type, {
    ...options,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKey = crypto.createPrivateKey(pkcs8);
  const publicKey = crypto.createPublicKey(privateKey);
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = `${alg.toLowerCase()}-${crypto.randomBytes(4).toString('hex')}`;
  return {
    jwk: { ...jwk, kid, alg, use: 'sig' },
    kid,
    publicKey,
  };
}

console.error('stage: generating keys');
const keys = {
  RS256: signingKey('RS256', 'rsa', { modulusLength: 2048 }),
  PS256: signingKey('PS256', 'rsa', { modulusLength: 2048 }),
  ES256: signingKey('ES256', 'ec', { namedCurve: 'P-256' }),
  EdDSA: signingKey('EdDSA', 'ed25519'),
};

// The HS256 resource is the classic algorithm-confusion token: it is signed
// with HMAC-SHA256, its kid names the published RS256 key, and the HMAC
// secret is that RSA public key in PEM (SPKI) form, i.e. exactly what a
// verifier that trusts the header's alg would feed to HMAC. A correct
// verifier must reject it.
const hs256Secret = crypto.createSecretKey(
  Buffer.from(keys.RS256.publicKey.export({ type: 'spki', format: 'pem' })),
);

// --- resource servers (RFC 8707 resource indicators) --------------------------

const resources = {
  'urn:bouncer:rs256': jwtResource(AUDIENCE, { alg: 'RS256' }),
  'urn:bouncer:ps256': jwtResource(AUDIENCE, { alg: 'PS256' }),
  'urn:bouncer:es256': jwtResource(AUDIENCE, { alg: 'ES256' }),
  'urn:bouncer:eddsa': jwtResource(AUDIENCE, { alg: 'EdDSA' }),
  'urn:bouncer:other': jwtResource(OTHER_AUDIENCE, { alg: 'RS256' }),
  'urn:bouncer:hs256': jwtResource(AUDIENCE, {
    alg: 'HS256',
    key: hs256Secret,
    kid: keys.RS256.kid,
  }),
  'urn:bouncer:opaque': {
    scope: API_SCOPES.join(' '),
    audience: AUDIENCE,
    accessTokenTTL: ACCESS_TOKEN_TTL,
    accessTokenFormat: 'opaque',
  },
};

function jwtResource(audience, sign) {
  return {
    scope: API_SCOPES.join(' '),
    audience,
    accessTokenTTL: ACCESS_TOKEN_TTL,
    accessTokenFormat: 'jwt',
    jwt: { sign },
  };
}

// --- clients ------------------------------------------------------------------

function ccClient(clientId, clientSecret, scope, authMethod = 'client_secret_basic') {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: authMethod,
    scope,
  };
}

const clients = [
  ccClient('country-client', 'country-secret', 'country.read customer.read'),
  ccClient('limited-client', 'limited-secret', 'customer.read'),
  ccClient('post-client', 'post-secret', 'country.read customer.read', 'client_secret_post'),
  // A secret full of characters that must be form-encoded inside HTTP Basic
  // credentials (RFC 6749 section 2.3.1).
  ccClient('special-client', 's3cr3t:+/ %&=?#', 'country.read customer.read'),
  // The protected API itself, authenticating at the introspection and
  // revocation endpoints. It asks for no tokens.
  {
    client_id: 'country-api-introspector',
    client_secret: 'introspector-secret',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
];

// --- provider -----------------------------------------------------------------

function configuration() {
  return {
    clients,
    jwks: { keys: Object.values(keys).map((k) => k.jwk) },
    // API scopes must be known to the server; only then does a client's
    // registered scope act as an allow-list for them.
    scopes: ['openid', ...API_SCOPES],
    claims: { openid: ['sub'] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    clientBasedCORS: () => false,
    findAccount: () => undefined,
    pairwiseIdentifier: (_ctx, accountId) => accountId,
    renderError: (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
    ttl: {
      ClientCredentials: ACCESS_TOKEN_TTL,
      AccessToken: ACCESS_TOKEN_TTL,
      Grant: ACCESS_TOKEN_TTL,
      IdToken: ACCESS_TOKEN_TTL,
      Interaction: ACCESS_TOKEN_TTL,
      RefreshToken: ACCESS_TOKEN_TTL,
      Session: ACCESS_TOKEN_TTL,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Any authenticated confidential client may introspect.
        allowedPolicy: (_ctx, client) => client.clientAuthMethod !== 'none',
      },
      revocation: {
        enabled: true,
        // The token's own client, or the protected API, may revoke.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId
          || client.clientId === 'country-api-introspector',
      },
      resourceIndicators: {
        enabled: true,
        // Only the resource the client asks for; no implicit default.
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          const info = resources[resourceIndicator];
          if (!info) throw new errors.InvalidTarget();
          return info;
        },
      },
    },
  };
}

let handler;

// Keys withdrawn by a command: the JWKS is then served here, without them,
// in the provider's own form.
const withdrawn = new Set();

function serveJWKS(res) {
  const published = Object.values(keys)
    .filter((k) => !withdrawn.has(k.kid))
    .map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.jwk.alg, use: 'sig' }));
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/jwk-set+json; charset=utf-8');
  res.end(JSON.stringify({ keys: published }));
}

const server = http.createServer((req, res) => {
  if (!handler) {
    res.statusCode = 503;
    res.end();
    return;
  }
  if (withdrawn.size > 0 && new URL(req.url, 'http://x').pathname === '/jwks' && (req.method === 'GET' || req.method === 'HEAD')) {
    serveJWKS(res);
    return;
  }
  handler(req, res);
});

server.on('error', (err) => {
  console.error(`listen failed: ${err.message}`);
  process.exit(1);
});

console.error('stage: listening');
server.listen(PORT, HOST, () => {
  console.error('stage: building the provider');
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;

  const provider = new Provider(issuer, configuration());
  provider.on('server_error', (_ctx, err) => {
    console.error(`server_error: ${err.stack || err.message}`);
  });
  provider.on('grant.error', (_ctx, err) => {
    console.error(`grant.error: ${err.error || err.name}: ${err.error_description || err.message}`);
  });

  handler = provider.callback();
  process.stdout.write(`READY ${issuer}\n`);
});

// --- lifetime -----------------------------------------------------------------

function shutdown() {
  server.closeAllConnections?.();
  server.close();
  process.exit(0);
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const [cmd, arg] = pending.slice(0, nl).trim().split(/\s+/);
    pending = pending.slice(nl + 1);
    if (cmd === 'withdraw') {
      if (Object.values(keys).some((k) => k.kid === arg)) {
        withdrawn.add(arg);
        console.error(`withdrawn: ${arg}`);
      } else {
        console.error(`withdraw: no key ${JSON.stringify(arg)}`);
      }
    } else if (cmd) {
      console.error(`unknown command: ${JSON.stringify(cmd)}`);
    }
  }
});
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';
import { SECURITY_HEADERS } from './access.ts';

// The app lives in dashboard/ but reads the repository's generated Prisma client, storage/ and lib/,
// so Turbopack's root (and output tracing) is the repository root.
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const config: NextConfig = {
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
  // Database driver and AWS SDK stay plain Node requires on the server (not bundled).
  serverExternalPackages: ['pg', '@prisma/adapter-pg', '@prisma/client', '@aws-sdk/client-s3'],
  poweredByHeader: false,
  // The proxy sees RSC requests as sent (their headers and _rsc query), so page-cache.ts can tell
  // them from document requests and never answers one with a cached HTML page.
  skipProxyUrlNormalize: true,
  reactStrictMode: true,
  // Also on what the access proxy does not see (static build assets).
  async headers() {
    return [{ source: '/:path*', headers: [...SECURITY_HEADERS] }];
  },
};

export default config;

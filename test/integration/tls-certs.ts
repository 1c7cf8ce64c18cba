/**
 * Test PKI made with the openssl CLI at test time: a CA, a server certificate for localhost /
 * 127.0.0.1, a client certificate, a second unrelated CA with its own client certificate, and
 * expired client and server certificates (`openssl ca` with explicit start/end dates).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  expiredClientCert: string;
  expiredClientKey: string;
  expiredServerCert: string;
  expiredServerKey: string;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function signed(dir: string, ca: string, name: string, cn: string, ext: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
}

function expired(dir: string, ca: string, name: string, cn: string, ext?: string): void {
  const db = path.join(dir, `${ca}-db`);
  if (!existsSync(db)) {
    mkdirSync(db, { recursive: true });
    writeFileSync(path.join(db, 'index.txt'), '');
    writeFileSync(path.join(db, 'serial'), '1000\n');
  }
  if (ext) writeFileSync(path.join(dir, `${name}.ext`), ext);
  writeFileSync(
    path.join(dir, `${ca}-ca.cnf`),
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `dir = ${db}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      `certificate = ${path.join(dir, `${ca}.crt`)}`,
      `private_key = ${path.join(dir, `${ca}.key`)}`,
      'default_md = sha256',
      'policy = any',
      'copy_extensions = none',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    `${ca}-ca.cnf`,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-in',
    `${name}.csr`,
    '-out',
    `${name}.crt`,
    '-notext',
    ...(ext ? ['-extfile', `${name}.ext`] : []),
  ]);
}

export function makeTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  signed(dir, 'ca', 'server', 'localhost', 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'ca', 'client', 'weightlens-client', 'extendedKeyUsage=clientAuth\n');
  signed(dir, 'other-ca', 'other-client', 'intruder', 'extendedKeyUsage=clientAuth\n');
  expired(dir, 'ca', 'expired-client', 'expired-client');
  expired(
    dir,
    'ca',
    'expired-server',
    'expired-server',
    'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    otherCa: file('other-ca.crt'),
    otherClientCert: file('other-client.crt'),
    otherClientKey: file('other-client.key'),
    expiredClientCert: file('expired-client.crt'),
    expiredClientKey: file('expired-client.key'),
    expiredServerCert: file('expired-server.crt'),
    expiredServerKey: file('expired-server.key'),
  };
}

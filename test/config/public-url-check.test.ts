import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publicUrlMismatch } from '../../src/config/public-url-check.js';

const rows: { name: string; publicUrl: string; listen: string; warns: boolean }[] = [
  { name: 'the listener itself', publicUrl: 'http://127.0.0.1:8080', listen: '127.0.0.1:8080', warns: false },
  { name: 'SCOPEGATE_LISTEN moved without SCOPEGATE_PUBLIC_URL', publicUrl: 'http://127.0.0.1:8080', listen: '127.0.0.1:9000', warns: true },
  { name: 'localhost on another port', publicUrl: 'http://localhost:8080', listen: '0.0.0.0:9000', warns: true },
  { name: 'IPv6 loopback on another port', publicUrl: 'http://[::1]:8080', listen: '[::1]:9000', warns: true },
  { name: 'loopback on the default port of its scheme', publicUrl: 'http://localhost', listen: '127.0.0.1:80', warns: false },
  { name: 'another host: a proxy may sit in between', publicUrl: 'https://crates.example.com', listen: '0.0.0.0:8080', warns: false },
  { name: 'a free port chosen at start', publicUrl: 'http://127.0.0.1:8080', listen: '127.0.0.1:0', warns: false },
];

for (const { name, publicUrl, listen, warns } of rows) {
  test(`public_url check: ${name} ${warns ? 'warns' : 'is fine'}`, () => {
    const [host, port] = [listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(listen.slice(listen.lastIndexOf(':') + 1))];
    assert.equal(publicUrlMismatch({ publicUrl, listen: { host, port } }) !== null, warns);
  });
}

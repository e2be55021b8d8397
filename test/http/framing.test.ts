/**
 * framingProblem(): which request bodies the gateway can forward with framing the registry will
 * read exactly as the gateway did (the integration side is test/integration/request-smuggling).
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import { framingProblem } from '../../src/http/body.js';

/** framingProblem reads the method and two headers, nothing else. */
const request = (method: string, headers: http.IncomingHttpHeaders): http.IncomingMessage => ({ method, headers }) as http.IncomingMessage;

describe('framingProblem', () => {
  it('accepts every request without a body, whatever its method', () => {
    for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'PUT', 'POST']) {
      assert.equal(framingProblem(request(method, {})), null, method);
      assert.equal(framingProblem(request(method, { 'content-length': '0' })), null, method);
    }
  });

  it('accepts a body with a length on methods that carry one (cargo owner --remove sends a DELETE body)', () => {
    for (const method of ['PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']) assert.equal(framingProblem(request(method, { 'content-length': '12' })), null, method);
  });

  it('accepts a plain chunked body where Node\'s client frames it as chunked', () => {
    for (const coding of ['chunked', 'Chunked', ' chunked ']) assert.equal(framingProblem(request('PUT', { 'transfer-encoding': coding })), null, coding);
  });

  it('refuses any body on GET and HEAD', () => {
    for (const method of ['GET', 'HEAD']) {
      for (const headers of [{ 'content-length': '5' }, { 'transfer-encoding': 'chunked' }]) {
        assert.equal(framingProblem(request(method, headers)), `a ${method} request has no body here; send it without one`);
      }
    }
  });

  it('refuses a chunked DELETE or OPTIONS, which the proxy would frame as empty', () => {
    for (const method of ['DELETE', 'OPTIONS']) {
      assert.equal(framingProblem(request(method, { 'transfer-encoding': 'chunked' })), `a ${method} body must be sent with Content-Length, not Transfer-Encoding: chunked`);
    }
  });

  it('refuses transfer codings other than plain chunked', () => {
    for (const coding of ['gzip, chunked', 'chunked, chunked', 'identity']) {
      assert.match(framingProblem(request('PUT', { 'transfer-encoding': coding })) ?? '', /is not supported/, coding);
    }
  });
});

/** The route table: path patterns, parameters, and 405 (with the allowed methods) vs 404. */
import { describe, expect, test } from 'vitest';
import type { RouteHandler } from '../../../server/master/http/router.js';
import { Router } from '../../../server/master/http/router.js';

const list: RouteHandler = () => undefined;
const create: RouteHandler = () => undefined;
const detail: RouteHandler = () => undefined;
const results: RouteHandler = () => undefined;
const home: RouteHandler = () => undefined;

const router = new Router([
  { method: 'GET', path: '/api/jobs', handler: list },
  { method: 'POST', path: '/api/jobs', handler: create },
  { method: 'GET', path: '/api/jobs/:id', handler: detail },
  { method: 'DELETE', path: '/api/jobs/:id', handler: detail },
  { method: 'GET', path: '/api/jobs/:id/results', handler: results },
  { method: 'GET', path: '/', handler: home },
]);

describe('Router', () => {
  test('finds the route of a method and path, with its parameters', () => {
    expect(router.match('GET', '/api/jobs')).toEqual({
      kind: 'found',
      handler: list,
      params: {},
    });
    expect(router.match('POST', '/api/jobs')).toMatchObject({
      handler: create,
    });
    expect(router.match('GET', '/api/jobs/j-1/results')).toEqual({
      kind: 'found',
      handler: results,
      params: { id: 'j-1' },
    });
    expect(router.match('GET', '/')).toMatchObject({ handler: home });
  });

  test('ignores empty segments, as the API always has', () => {
    expect(router.match('GET', '/api/jobs/')).toMatchObject({ handler: list });
    expect(router.match('GET', '//api//jobs/x')).toMatchObject({
      handler: detail,
      params: { id: 'x' },
    });
  });

  test('a known path with another method: the methods it takes', () => {
    expect(router.match('PUT', '/api/jobs')).toEqual({
      kind: 'wrong-method',
      allow: ['GET', 'POST'],
    });
    expect(router.match('POST', '/api/jobs/x')).toEqual({
      kind: 'wrong-method',
      allow: ['GET', 'DELETE'],
    });
    expect(router.match('HEAD', '/')).toEqual({
      kind: 'wrong-method',
      allow: ['GET'],
    });
  });

  test('a path no route has: none, whatever the method', () => {
    for (const path of ['/api', '/api/jobs/x/nope', '/api/jobs/x/results/y'])
      expect(router.match('GET', path), path).toEqual({ kind: 'none' });
    expect(router.match('POST', '/assets/app.js')).toEqual({ kind: 'none' });
  });
});

/**
 * A route table: method + path pattern -> handler. Patterns are paths of literal
 * segments and `:name` parameters (`/api/jobs/:id/results`), matched against the
 * request's non-empty path segments, so `/api/jobs/` is `/api/jobs`. A path that some
 * route matches but not with this method is told apart from a path no route matches:
 * the first is a 405 with `Allow`, the second a 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Method = 'GET' | 'HEAD' | 'POST' | 'DELETE';

/** What a handler gets: the request, its reply, its parsed URL and path parameters. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Readonly<Record<string, string>>;
}

export type RouteHandler = (context: RouteContext) => void | Promise<void>;

export interface Route {
  method: Method;
  /** `/`-separated literal segments and `:name` parameters. */
  path: string;
  handler: RouteHandler;
}

/** The outcome of a lookup: a handler, the methods the path allows, or no route. */
export type RouteMatch =
  | {
      kind: 'found';
      handler: RouteHandler;
      params: Readonly<Record<string, string>>;
    }
  | { kind: 'wrong-method'; allow: readonly Method[] }
  | { kind: 'none' };

interface CompiledRoute extends Route {
  /** Literal segments as they are; parameters as `:name`. */
  segments: readonly string[];
}

/** The non-empty segments of a path, as written (not percent-decoded). */
export function pathSegments(pathname: string): string[] {
  return pathname.split('/').filter(Boolean);
}

export class Router {
  readonly #routes: readonly CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((route) => ({
      ...route,
      segments: pathSegments(route.path),
    }));
  }

  /** The first route of the table that matches `method` and `pathname`. */
  match(method: string, pathname: string): RouteMatch {
    const segments = pathSegments(pathname);
    const allow: Method[] = [];
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      if (route.method === method)
        return { kind: 'found', handler: route.handler, params };
      if (!allow.includes(route.method)) allow.push(route.method);
    }
    return allow.length > 0
      ? { kind: 'wrong-method', allow }
      : { kind: 'none' };
  }
}

/** The parameters if `pattern` matches `segments`, else undefined. */
function matchSegments(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = segments[i]!;
    if (want.startsWith(':')) params[want.slice(1)] = got;
    else if (want !== got) return undefined;
  }
  return params;
}

import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { authCookieNames, AUTH_OPTIONS, type ResolvedAuthOptions } from '@nest-social-auth/core';
import { addAuthSecuritySchemes, addMachineClientSecurityScheme, describeAuthRoutes, describeScopedRoutes } from '@nest-social-auth/core/openapi';

/** Where the demo serves its API description: the UI at `/docs`, the JSON at `/docs-json`. */
export const OPENAPI_PATHS = { ui: 'docs', json: 'docs-json' } as const;

/** The demo's OpenAPI document: every auth route (with its answers and error codes) and the demo's own routes. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  describeAuthRoutes();
  // The demo's @Scopes() routes (machine clients), with the client-credentials scheme they refer to.
  const scopes = describeScopedRoutes(app);
  const options = app.get<ResolvedAuthOptions>(AUTH_OPTIONS);
  const builder = new DocumentBuilder()
    .setTitle('nest-social-auth demo')
    .setDescription('Social sign-in (Google, GitHub, OpenID Connect providers), account linking and short-lived JWT sessions. JSON errors are `{ statusCode, error, message }` with a stable `error` code.')
    .setVersion('0.1.0');
  const withSchemes = addMachineClientSecurityScheme(addAuthSecuritySchemes(builder, authCookieNames(options).access), `/${options.routePrefix}/oauth/token`, scopes);
  return SwaggerModule.createDocument(app, withSchemes.build());
}

/**
 * Serves the document publicly (it describes routes, never data): Swagger UI at `/docs`, JSON at
 * `/docs-json`. These are plain Express routes outside the guard, like static assets.
 */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_PATHS.ui, app, () => createOpenApiDocument(app), { jsonDocumentUrl: OPENAPI_PATHS.json, yamlDocumentUrl: undefined, raw: ['json'] });
}

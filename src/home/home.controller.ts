import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { randomBytes } from 'node:crypto';
import { IdentityProviderRegistry, Public } from '@nest-social-auth/core';
import { DEMO_CONFIG } from '../config/demo-config.token';
import type { DemoConfig } from '../config/demo.config';
import { homePageCsp, renderHomePage } from './home.page';

@Controller()
export class HomeController {
  constructor(
    private readonly providers: IdentityProviderRegistry,
    @Inject(DEMO_CONFIG) private readonly config: DemoConfig,
  ) {}

  /**
   * The demo's sign-in page (public; also the module's `errorRedirect`, so `?error=<code>` is
   * shown in words). The page asks `/auth/me` who is signed in.
   */
  @Public()
  @Get()
  home(@Query('error') error: unknown, @Res({ passthrough: true }) res: Response): string {
    const nonce = randomBytes(16).toString('base64url');
    res.header('Content-Type', 'text/html; charset=utf-8');
    res.header('Cache-Control', 'no-store');
    res.header('Content-Security-Policy', homePageCsp(nonce));
    res.header('X-Content-Type-Options', 'nosniff');
    res.header('Referrer-Policy', 'no-referrer');
    return renderHomePage({
      providers: this.providers.list(),
      error: typeof error === 'string' ? error : undefined,
      nonce,
      sandbox: this.config.sandbox,
    });
  }
}

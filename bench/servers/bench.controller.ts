import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Public } from '@nest-social-auth/core';
import { RecipeAuthGuard } from '../baselines/recipe-auth.guard';

const BODY = { ok: true };

/**
 * The same small JSON route four times. The kit's guard is the global APP_GUARD (as in a host
 * app); the baseline routes are `@Public()` for it and carry their own guard instead, so every
 * route pays the same global-guard lookup and differs only by the verification it runs.
 */
@Controller('bench')
export class BenchController {
  /** No authentication: the reference every ratio is taken against. */
  @Public()
  @Get('public')
  open(): typeof BODY {
    return BODY;
  }

  /** The kit: protected by the global JwtAuthGuard (Bearer). */
  @Get('kit')
  kit(): typeof BODY {
    return BODY;
  }

  /** Baseline: the NestJS docs recipe guard (JwtService.verifyAsync). */
  @Public()
  @UseGuards(RecipeAuthGuard)
  @Get('recipe')
  recipe(): typeof BODY {
    return BODY;
  }

  /** Baseline: AuthGuard('jwt') with passport-jwt. */
  @Public()
  @UseGuards(AuthGuard('jwt'))
  @Get('passport')
  passport(): typeof BODY {
    return BODY;
  }
}

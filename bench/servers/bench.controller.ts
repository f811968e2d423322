import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Public } from '@nest-social-auth/core';
import { RecipeAuthGuard } from '../baselines/recipe-auth.guard';
import { ReferenceAuthGuard } from '../baselines/reference-auth.guard';

const BODY = { ok: true };

/**
 * The same small JSON route five times. The kit's guard is the global APP_GUARD (as in a host
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

  /**
   * The same public route again, for the paired measurement's A/A check (public against an
   * identical route): what it shows is the measurement's own floor. Registered right after
   * `public`, so on Express's ordered router it sits where the kit's route does.
   */
  @Public()
  @Get('public-twin')
  twin(): typeof BODY {
    return BODY;
  }

  /** The kit: protected by the global JwtAuthGuard (Bearer). */
  @Get('kit')
  kit(): typeof BODY {
    return BODY;
  }

  /**
   * Reference: a minimal guard on fast-jwt's cached verifier, per route. What verification done
   * right costs on this machine; the module's guard is judged against it.
   */
  @Public()
  @UseGuards(ReferenceAuthGuard)
  @Get('reference')
  reference(): typeof BODY {
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

// `type`: AuthenticatedUser is an interface, and the stock tsconfig has isolatedModules with
// emitDecoratorMetadata, where a type in a decorated signature must be imported as a type (TS1272).
import { CurrentUser, type AuthenticatedUser } from '@nest-social-auth/core';
import { Controller, Get, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Member } from './member.entity';

/** The signed-in member. Not @Public(): the module's global guard answers 401 without a session. */
@Controller('me')
export class MeController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get()
  async me(@CurrentUser() user: AuthenticatedUser) {
    const member = await this.dataSource.getRepository(Member).findOneBy({ id: user.id });
    if (!member) throw new NotFoundException();
    return {
      id: member.id,
      sessionId: user.sessionId,
      email: member.email,
      emailVerified: member.emailVerified,
      displayName: member.displayName,
    };
  }
}

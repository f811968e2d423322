import { Public } from '@nest-social-auth/core';
import { Controller, Get } from '@nestjs/common';
import { AppService } from './app.service';

@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  /** Open to everyone: the module's global guard lets @Public() routes through. */
  @Public()
  @Get()
  getHello(): string {
    return this.appService.getHello();
  }
}

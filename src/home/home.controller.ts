import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '@app/social-auth';
import { renderHomePage } from './home.page';

@Controller()
export class HomeController {
  /** The demo's sign-in page; the page itself asks `/auth/me` who is signed in. */
  @Public()
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  home(): string {
    return renderHomePage();
  }
}

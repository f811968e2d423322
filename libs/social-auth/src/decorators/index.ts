export { CurrentUser } from './current-user.decorator';
export { InjectAuthOptions } from './inject-auth-options.decorator';
export { Public } from './public.decorator';

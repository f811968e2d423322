import { Inject } from '@nestjs/common';
import { AUTH_OPTIONS } from '../auth.constants';

/**
 * Injects the module's validated options (`ResolvedAuthOptions`).
 * @publicApi
 */
export const InjectAuthOptions = (): ParameterDecorator => Inject(AUTH_OPTIONS);

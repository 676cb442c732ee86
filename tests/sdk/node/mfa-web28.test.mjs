import { webMfaSuite } from './mfa_web.mjs';

webMfaSuite('appwrite-web-28');

//! Appwrite's error catalogue and the one error type every layer returns.

use std::borrow::Cow;

macro_rules! catalogue {
    ($( $variant:ident = ($name:literal, $status:literal, $message:literal), )*) => {
        /// One variant per Appwrite error `type` (appwrite 1.9.6 `app/config/errors.php`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorType { $( $variant, )* }

        impl ErrorType {
            /// Every variant, for catalogue tests.
            pub const ALL: &'static [ErrorType] = &[ $( ErrorType::$variant, )* ];

            /// The wire `type` string, e.g. `user_already_exists`.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorType::$variant => $name, )* }
            }

            /// The catalogue status code (before the pass-through rule of [`wire_status`]).
            pub fn status(self) -> u16 {
                match self { $( ErrorType::$variant => $status, )* }
            }

            /// The catalogue description, used when the error carries no message of its own.
            pub fn default_message(self) -> &'static str {
                match self { $( ErrorType::$variant => $message, )* }
            }
        }
    };
}

catalogue! {
    GeneralUnknown = ("general_unknown", 500, "An unknown error has occurred. Please check the logs for more information."),
    GeneralAccessForbidden = ("general_access_forbidden", 401, "Access to this API is forbidden."),
    GeneralUnknownOrigin = ("general_unknown_origin", 403, "The request originated from an unknown origin. If you trust this domain, please list it as a trusted platform in the Appwrite console."),
    GeneralApiDisabled = ("general_api_disabled", 403, "The requested API is disabled. You can enable the API from the Appwrite console."),
    GeneralServiceDisabled = ("general_service_disabled", 403, "The requested service is disabled. You can enable the service from the Appwrite console."),
    GeneralUnauthorizedScope = ("general_unauthorized_scope", 401, "The current user or API key does not have the required scopes to access the requested resource."),
    GeneralRateLimitExceeded = ("general_rate_limit_exceeded", 429, "Rate limit for the current endpoint has been exceeded. Please try again after some time."),
    GeneralSmtpDisabled = ("general_smtp_disabled", 503, "SMTP is disabled on your Appwrite instance. You can <a href=\"/docs/email-delivery\">learn more about setting up SMTP</a> in our docs."),
    GeneralPhoneDisabled = ("general_phone_disabled", 503, "Phone provider is not configured. Please check the _APP_SMS_PROVIDER environment variable of your Appwrite server."),
    GeneralArgumentInvalid = ("general_argument_invalid", 400, "The request contains one or more invalid arguments. Please refer to the endpoint documentation."),
    GeneralQueryInvalid = ("general_query_invalid", 400, "The query's syntax is invalid. Please check the query and try again."),
    GeneralRouteNotFound = ("general_route_not_found", 404, "Route not found. Please ensure the endpoint is configured correctly and that the API route is valid for this SDK version. Refer to the API docs for more details."),
    GeneralCursorNotFound = ("general_cursor_not_found", 400, "The cursor is invalid. This can happen if the item represented by the cursor has been deleted."),
    GeneralServerError = ("general_server_error", 500, "An internal server error occurred."),
    GeneralNotImplemented = ("general_not_implemented", 405, "This method was not fully implemented yet. If you believe this is a mistake, please upgrade your Appwrite server version."),
    GeneralInvalidEmail = ("general_invalid_email", 400, "Value must be a valid email address."),
    GeneralInvalidPhone = ("general_invalid_phone", 400, "Value must be a valid phone number. Format this number with a leading '+' and a country code, e.g., +16175551212."),
    GeneralBadRequest = ("general_bad_request", 400, "There was an error processing your request. Please check the inputs and try again."),
    UserCountExceeded = ("user_count_exceeded", 400, "The current project has exceeded the maximum number of users. Please check your user limit in the Appwrite console."),
    UserJwtInvalid = ("user_jwt_invalid", 401, "The JWT token is invalid. Please check the value of the X-Appwrite-JWT header to ensure the correct token is being used."),
    UserAlreadyExists = ("user_already_exists", 409, "A user with the same id, email, or phone already exists in this project."),
    UserBlocked = ("user_blocked", 403, "The current user has been blocked."),
    UserInvalidToken = ("user_invalid_token", 401, "Invalid token passed in the request."),
    UserPasswordResetRequired = ("user_password_reset_required", 412, "The current user requires a password reset."),
    UserInvalidCredentials = ("user_invalid_credentials", 401, "Invalid credentials. Please check the email and password."),
    UserAnonymousConsoleProhibited = ("user_anonymous_console_prohibited", 401, "Anonymous users cannot be created for the console project."),
    UserSessionAlreadyExists = ("user_session_already_exists", 401, "Creation of a session is prohibited when a session is active."),
    UserNotFound = ("user_not_found", 404, "User with the requested ID could not be found."),
    UserEmailAlreadyExists = ("user_email_already_exists", 409, "A user with the same email already exists in the current project."),
    UserPasswordMismatch = ("user_password_mismatch", 400, "Passwords do not match. Please check the password and confirm password."),
    PasswordRecentlyUsed = ("password_recently_used", 400, "The password you are trying to use is similar to your previous password. For your security, please choose a different password and try again."),
    UserPasskeyInvalid = ("user_passkey_invalid", 401, "The passkey could not be verified."),
    UserPasskeyNotFound = ("user_passkey_not_found", 404, "Passkey with the requested ID could not be found."),
    UserPasskeyAlreadyExists = ("user_passkey_already_exists", 409, "A passkey with the same ID or credential already exists."),
    UserPasskeyLimitExceeded = ("user_passkey_limit_exceeded", 400, "The maximum number of passkeys for this user has been reached."),
    UserReauthenticationRequired = ("user_reauthentication_required", 401, "This action needs a session that signed in or completed an MFA challenge in the last 10 minutes. Sign in again, then retry."),
    ConsentNotFound = ("consent_not_found", 404, "Consent with the requested ID could not be found."),
    PasswordPwned = ("password_pwned", 400, "The password you are trying to use was found in a known data breach. For your security, please choose a different password and try again."),
    GeneralPwnedPasswordsUnavailable = ("general_pwned_passwords_unavailable", 503, "The breached-password service could not be reached, so the password could not be checked. Please try again later."),
    PasswordPersonalData = ("password_personal_data", 400, "The password you are trying to use contains references to your name, email, phone or userID. For your security, please choose a different password and try again."),
    UserSessionNotFound = ("user_session_not_found", 404, "The current user session could not be found."),
    UserIdentityNotFound = ("user_identity_not_found", 404, "The identity could not be found. Please sign in with OAuth provider to create identity first."),
    UserUnauthorized = ("user_unauthorized", 401, "The current user is not authorized to perform the requested action."),
    UserAuthMethodUnsupported = ("user_auth_method_unsupported", 501, "The requested authentication method is either disabled or unsupported. Please check the supported authentication methods in the Appwrite console."),
    UserPhoneAlreadyExists = ("user_phone_already_exists", 409, "A user with the same phone number already exists in the current project."),
    UserPhoneNotFound = ("user_phone_not_found", 400, "The current user does not have a phone number associated with their account."),
    UserEmailNotFound = ("user_email_not_found", 400, "User email could not be found."),
    UserEmailDisposable = ("user_email_disposable", 400, "Disposable email addresses are not allowed. Please use a permanent email address."),
    UserEmailFree = ("user_email_free", 400, "Free email addresses are not allowed. Please use a business or custom-domain email address."),
    UserEmailNotCanonical = ("user_email_not_canonical", 400, "This email address must already be in its canonical form. Please remove aliases, tags, or provider-specific variations and try again."),
    UserEmailNotCorporate = ("user_email_not_corporate", 400, "Only corporate email addresses are allowed. Please use a work email address and try again."),
    UserEmailAlreadyVerified = ("user_email_already_verified", 409, "User email is already verified"),
    UserPhoneAlreadyVerified = ("user_phone_already_verified", 409, "User phone is already verified"),
    UserMoreFactorsRequired = ("user_more_factors_required", 401, "More factors are required to complete the sign in process."),
    UserChallengeRequired = ("user_challenge_required", 401, "A recently successful challenge is required to complete this action. A challenge is considered recent for 5 minutes."),
    UserAuthenticatorNotFound = ("user_authenticator_not_found", 404, "Authenticator could not be found on the current user."),
    UserAuthenticatorAlreadyVerified = ("user_authenticator_already_verified", 409, "This authenticator is already verified on the current user."),
    UserRecoveryCodesAlreadyExists = ("user_recovery_codes_already_exists", 409, "The current user already generated recovery codes and they can only be read once for security reasons."),
    UserRecoveryCodesNotFound = ("user_recovery_codes_not_found", 404, "Recovery codes could not be found on the current user."),
    UserEmailNotVerified = ("user_email_not_verified", 400, "User email is not verified"),
    UserPhoneNotVerified = ("user_phone_not_verified", 400, "User phone is not verified"),
    UserTargetNotFound = ("user_target_not_found", 404, "The target could not be found."),
    UserTargetAlreadyExists = ("user_target_already_exists", 409, "A target with the same ID already exists."),
    UserJwtAndCookieSet = ("user_jwt_and_cookie_set", 403, "JWT and cookie used in the same request. Use either `setJWT` or `setCookie`. Learn about which authentication method to use in the SSR docs: https://appwrite.io/docs/products/auth/server-side-rendering"),
    UserJwtCreationDenied = ("user_jwt_creation_denied", 403, "Creating a JWT from a JWT-authenticated request is not allowed."),
    UserOauth2ProviderError = ("user_oauth2_provider_error", 424, "OAuth2 provider returned some error."),
    // Appwrite main (after 1.9.6): a failed code exchange, "<Provider> couldn't complete sign-in (<error>). Please try again."
    UserOauth2ProviderFailure = ("user_oauth2_provider_failure", 424, "The OAuth2 provider couldn't complete sign-in. Please try again."),
    // Appwrite 2.x ID-token sessions; the message names the failed check.
    UserOauth2TokenInvalid = ("user_oauth2_token_invalid", 401, "The OAuth2 ID token is invalid."),
    UserMissingId = ("user_missing_id", 400, "Missing ID from OAuth2 provider."),
    ProjectNotFound = ("project_not_found", 404, "Project with the requested ID could not be found. Please check the value of the X-Appwrite-Project header to ensure the correct project ID is being used."),
    ProjectProviderDisabled = ("project_provider_disabled", 412, "The chosen OAuth provider is disabled. You can enable the OAuth provider using the Appwrite console."),
    ProjectInvalidSuccessUrl = ("project_invalid_success_url", 400, "Invalid redirect URL for OAuth success."),
    ProjectInvalidFailureUrl = ("project_invalid_failure_url", 400, "Invalid redirect URL for OAuth failure."),
    ProjectProviderUnsupported = ("project_provider_unsupported", 400, "The chosen OAuth provider is unsupported. Please check the <a href=\"/docs/client/account?sdk=web-default#accountCreateOAuth2Session\">Create OAuth2 Session docs</a> for the complete list of supported OAuth providers."),
    ProjectKeyExpired = ("project_key_expired", 401, "The project key has expired. Please generate a new key using the Appwrite console."),
    ProjectIdMissing = ("project_id_missing", 403, "When using project API key, make sure to pass x-appwrite-project header with your project ID."),
    GraphqlNoQuery = ("graphql_no_query", 400, "Param \"query\" is not optional."),
    GraphqlTooManyQueries = ("graphql_too_many_queries", 400, "Too many queries."),
}

/// Codes Appwrite passes through to the HTTP status; every other code is answered as
/// 500 `Server Error` (appwrite 1.9.6 app/controllers/general.php error handler).
const PASS_THROUGH: &[u16] = &[
    400, 401, 402, 403, 404, 405, 408, 409, 410, 412, 416, 422, 429, 451, 501, 503,
];

/// The HTTP status and whether the message must be replaced by `Server Error`.
pub fn wire_status(code: u16) -> (u16, bool) {
    if PASS_THROUGH.contains(&code) {
        (code, false)
    } else {
        (500, true)
    }
}

/// The error every layer returns: an Appwrite type, an optional message that replaces the
/// catalogue description, and an optional internal cause that is logged and never sent.
#[derive(Debug)]
pub struct Error {
    pub ty: ErrorType,
    pub message: Option<Cow<'static, str>>,
    pub source: Option<anyhow::Error>,
}

impl Error {
    /// Replaces the catalogue description with `message`.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// `general_argument_invalid` for a present-but-invalid parameter, in Appwrite's wording.
    pub fn invalid_param(name: &str, description: &str) -> Self {
        Error::from(ErrorType::GeneralArgumentInvalid)
            .with_message(format!("Invalid `{name}` param: {description}"))
    }

    /// `general_argument_invalid` for a missing required parameter, in Appwrite's wording.
    pub fn missing_param(name: &str) -> Self {
        Error::from(ErrorType::GeneralArgumentInvalid)
            .with_message(format!("Param \"{name}\" is not optional."))
    }

    /// A 500 that keeps the cause for the log only.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Error {
            ty: ErrorType::GeneralServerError,
            message: None,
            source: Some(source.into()),
        }
    }

    /// The message that goes on the wire.
    pub fn message(&self) -> &str {
        self.message
            .as_deref()
            .unwrap_or_else(|| self.ty.default_message())
    }
}

impl From<ErrorType> for Error {
    fn from(ty: ErrorType) -> Self {
        Error {
            ty,
            message: None,
            source: None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.ty.as_str(), self.message())
    }
}

/// Shorthand for results whose error is Appwrite-shaped.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Appwrite's error catalogue at tag 1.9.6 (app/config/errors.php), one
    /// `type<TAB>code<TAB>description` line each.
    const PINNED: &str = include_str!("../tests/fixtures/appwrite-errors-1.9.6.tsv");
    /// Types we serve that 1.9.6 does not have yet (they come from Appwrite's main branch).
    const NEWER_THAN_PINNED: &[&str] = &[
        "user_jwt_creation_denied",
        "password_pwned",
        "consent_not_found",
        "user_passkey_invalid",
        "user_passkey_not_found",
        "user_passkey_already_exists",
        "user_passkey_limit_exceeded",
        "user_reauthentication_required",
        "general_pwned_passwords_unavailable",
        "user_oauth2_provider_failure",
        "user_oauth2_token_invalid",
    ];

    #[test]
    fn every_error_type_matches_appwrites_pinned_catalogue() {
        let pinned: std::collections::HashMap<&str, (u16, &str)> = PINNED
            .lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?, (f.next()?.parse().ok()?, f.next()?)))
            })
            .collect();
        assert!(pinned.len() > 250, "the pinned catalogue parsed");
        let mut seen = std::collections::HashSet::new();
        for ty in ErrorType::ALL {
            assert!(seen.insert(ty.as_str()), "duplicate {}", ty.as_str());
            if NEWER_THAN_PINNED.contains(&ty.as_str()) {
                continue;
            }
            let (code, message) = pinned
                .get(ty.as_str())
                .unwrap_or_else(|| panic!("{} is not an Appwrite 1.9.6 type", ty.as_str()));
            assert_eq!(ty.status(), *code, "status of {}", ty.as_str());
            assert_eq!(ty.default_message(), *message, "message of {}", ty.as_str());
        }
    }

    #[test]
    fn codes_outside_the_pass_through_list_become_500_server_error() {
        assert_eq!(wire_status(424), (500, true));
        assert_eq!(wire_status(500), (500, true));
        assert_eq!(wire_status(409), (409, false));
        assert_eq!(wire_status(501), (501, false));
    }

    #[test]
    fn param_errors_use_appwrite_wording() {
        assert_eq!(
            Error::missing_param("email").message(),
            "Param \"email\" is not optional."
        );
        assert_eq!(
            Error::invalid_param("email", "Value must be a valid email address").message(),
            "Invalid `email` param: Value must be a valid email address"
        );
    }
}

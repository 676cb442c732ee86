//! `users.create` and the imports of users with password hashes from other systems.

use crate::domain::hashing::Imported;
use crate::domain::users::{self, NewPassword, NewUser};
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;

/// The user of `a` (id, email, phone, name) with `password`.
fn new_user<'a>(a: &'a Args, password: NewPassword<'a>) -> Result<NewUser<'a>> {
    Ok(NewUser {
        id: a.custom_id("userId")?,
        email: a.opt_str("email").map(str::to_owned),
        phone: a.opt_str("phone").map(str::to_owned),
        name: a.opt_str("name").map(str::to_owned),
        password,
    })
}

async fn created(ctx: Ctx, new: NewUser<'_>) -> Result<Reply> {
    let (user, targets) = users::create(&ctx.env(), new).await?;
    Ok(Reply::json(models::user(&user, &targets)))
}

async fn import(ctx: Ctx, a: &Args, algorithm: Imported) -> Result<Reply> {
    let new = new_user(
        a,
        NewPassword::Imported {
            hash: a.str("password")?,
            algorithm,
        },
    )?;
    created(ctx, new).await
}

/// `users.create` — POST /v1/users: a plain password (optional) hashed with Argon2id.
pub async fn create(ctx: Ctx, a: Args) -> Result<Reply> {
    let password = match a.opt_str("password") {
        Some(p) => NewPassword::Plain(p),
        None => NewPassword::None,
    };
    let new = new_user(&a, password)?;
    created(ctx, new).await
}

/// `users.createArgon2User` — POST /v1/users/argon2.
pub async fn create_argon2(ctx: Ctx, a: Args) -> Result<Reply> {
    let new = new_user(&a, NewPassword::Argon2(a.str("password")?))?;
    created(ctx, new).await
}

/// `users.createBcryptUser` — POST /v1/users/bcrypt.
pub async fn create_bcrypt(ctx: Ctx, a: Args) -> Result<Reply> {
    import(ctx, &a, Imported::Bcrypt).await
}

/// `users.createMD5User` — POST /v1/users/md5.
pub async fn create_md5(ctx: Ctx, a: Args) -> Result<Reply> {
    import(ctx, &a, Imported::Md5).await
}

/// `users.createPHPassUser` — POST /v1/users/phpass.
pub async fn create_phpass(ctx: Ctx, a: Args) -> Result<Reply> {
    import(ctx, &a, Imported::Phpass).await
}

/// `users.createSHAUser` — POST /v1/users/sha.
pub async fn create_sha(ctx: Ctx, a: Args) -> Result<Reply> {
    let version = a.str("passwordVersion")?.to_owned();
    import(ctx, &a, Imported::Sha { version }).await
}

/// `users.createScryptUser` — POST /v1/users/scrypt.
pub async fn create_scrypt(ctx: Ctx, a: Args) -> Result<Reply> {
    let n = |name: &str| -> Result<u32> { Ok(u32::try_from(a.int(name)?).unwrap_or(0)) };
    let algorithm = Imported::Scrypt {
        salt: a.str("passwordSalt")?.to_owned(),
        cost_cpu: n("passwordCpu")?,
        cost_memory: n("passwordMemory")?,
        cost_parallel: n("passwordParallel")?,
        length: n("passwordLength")?,
    };
    import(ctx, &a, algorithm).await
}

/// `users.createScryptModifiedUser` — POST /v1/users/scrypt-modified (Firebase).
pub async fn create_scrypt_modified(ctx: Ctx, a: Args) -> Result<Reply> {
    let algorithm = Imported::ScryptModified {
        salt: a.str("passwordSalt")?.to_owned(),
        salt_separator: a.str("passwordSaltSeparator")?.to_owned(),
        signer_key: a.str("passwordSignerKey")?.to_owned(),
    };
    import(ctx, &a, algorithm).await
}

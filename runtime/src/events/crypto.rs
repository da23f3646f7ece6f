//! The webhook cryptography: request signatures, AES-256-CBC bodies and a
//! constant-time comparison.

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha2::{Digest, Sha256};

use super::error::{DecryptError, WebhookError};

const BLOCK: usize = 16;

/// The `X-Lark-Signature` of a request: the lowercase hex SHA-256 of
/// `timestamp ‖ nonce ‖ encrypt_key ‖ body`.
///
/// Useful for testing a handler: sign a body the way Feishu does and pass it
/// to [`Webhook::handle`](super::Webhook::handle) with the
/// `X-Lark-Request-Timestamp` and `X-Lark-Request-Nonce` headers.
pub fn signature(timestamp: &str, nonce: &str, encrypt_key: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(timestamp.as_bytes());
    hasher.update(nonce.as_bytes());
    hasher.update(encrypt_key.as_bytes());
    hasher.update(body);
    hex(&hasher.finalize())
}

/// Encrypts a body the way Feishu does with an encrypt key: AES-256-CBC
/// with the key SHA-256(`encrypt_key`), PKCS#7 padding, and the base64 of
/// `iv ‖ ciphertext`. Wrap the result as `{"encrypt": "…"}` to get the
/// request body.
///
/// Useful for testing a handler; `iv` should be random for anything else.
pub fn encrypt(encrypt_key: &str, plaintext: &[u8], iv: [u8; 16]) -> String {
    let ciphertext = cbc::Encryptor::<Aes256>::new(&aes_key(encrypt_key).into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let mut data = Vec::with_capacity(BLOCK + ciphertext.len());
    data.extend_from_slice(&iv);
    data.extend_from_slice(&ciphertext);
    BASE64.encode(data)
}

/// Decrypts the `encrypt` field of an encrypted body: base64, the first 16
/// bytes the IV, AES-256-CBC with the key SHA-256(`encrypt_key`), PKCS#7
/// padding. The inverse of [`encrypt`].
///
/// Fails with [`WebhookError::Decrypt`] on bad base64, a length that is not
/// an IV plus whole blocks, or bad padding (which is also what a wrong key
/// usually gives).
pub fn decrypt(encrypt_key: &str, encrypted: &str) -> Result<Vec<u8>, WebhookError> {
    let data = BASE64
        .decode(encrypted.trim())
        .map_err(|e| WebhookError::Decrypt(DecryptError::NotBase64(Box::new(e))))?;
    if data.len() < 2 * BLOCK || data.len() % BLOCK != 0 {
        return Err(WebhookError::Decrypt(DecryptError::BadLength(data.len())));
    }
    let (iv, ciphertext) = data.split_at(BLOCK);
    let mut iv_block = [0u8; BLOCK];
    iv_block.copy_from_slice(iv);
    cbc::Decryptor::<Aes256>::new(&aes_key(encrypt_key).into(), &iv_block.into())
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| WebhookError::Decrypt(DecryptError::BadPadding))
}

/// Compares two byte strings in time that depends on neither their contents
/// nor their lengths: both are hashed, and the digests compared without an
/// early exit.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    let diff = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn aes_key(encrypt_key: &str) -> [u8; 32] {
    Sha256::digest(encrypt_key.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }

    #[test]
    fn sha256_of_nothing() {
        assert_eq!(
            signature("", "", "", b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    /// Issue 23 item 6: the base64 decoder's own error is the source.
    #[test]
    fn a_body_that_is_not_base64_keeps_the_decoders_error() {
        let error = decrypt("k", "not base64!").unwrap_err();
        assert!(matches!(error, WebhookError::Decrypt(DecryptError::NotBase64(_))), "{error:?}");
        let mut chain =
            std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
        assert!(chain.any(|e| e.is::<base64::DecodeError>()), "{error}");
    }

    #[test]
    fn encrypt_then_decrypt() {
        for len in [0, 1, 15, 16, 17, 100] {
            let plain = vec![b'x'; len];
            let enc = encrypt("k", &plain, [7; 16]);
            assert_eq!(decrypt("k", &enc).unwrap(), plain);
        }
    }
}

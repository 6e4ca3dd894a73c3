//! What people who are not admins may see of a URL: scheme, host, port and path. Credentials in
//! the user-info part and everything after `?` or `#` (tokens travel there) are masked, since a
//! webhook deployer's or a probe's URL may carry a secret.

/// `https://user:secret@hooks.example/deploy?token=abc` → `https://•••@hooks.example/deploy?•••`.
pub fn mask_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, _)) => (b, true),
        None => (url, false),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, _)) => (b, true),
        None => (before_fragment, false),
    };
    let masked = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = match authority.rsplit_once('@') {
                Some((_, host)) => format!("•••@{host}"),
                None => authority.to_string(),
            };
            format!("{scheme}://{host}{path}")
        }
        None => base.to_string(),
    };
    match (query, fragment) {
        (false, false) => masked,
        _ => format!("{masked}?•••"),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url;

    #[test]
    fn secrets_in_user_info_query_and_fragment_are_masked() {
        assert_eq!(
            mask_url("https://user:s3cret@hooks.example/deploy?token=abc"),
            "https://•••@hooks.example/deploy?•••"
        );
        assert_eq!(
            mask_url("http://127.0.0.1:8080/healthz"),
            "http://127.0.0.1:8080/healthz"
        );
        assert_eq!(
            mask_url("https://ci.example/hook#k=1"),
            "https://ci.example/hook?•••"
        );
        assert_eq!(
            mask_url("https://t0ken@ci.example"),
            "https://•••@ci.example"
        );
        for secret in ["s3cret", "abc", "t0ken", "k=1"] {
            for url in [
                "https://user:s3cret@hooks.example/deploy?token=abc",
                "https://t0ken@ci.example",
                "https://ci.example/hook#k=1",
            ] {
                if url.contains(secret) {
                    assert!(!mask_url(url).contains(secret), "{url}");
                }
            }
        }
    }
}

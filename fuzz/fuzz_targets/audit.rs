//! The injection audit: any text gives an audit or an error, and a restart command never holds
//! anything but Kubernetes names and the command's own words.
#![no_main]

use dynakube_netpol::audit::audit;
use dynakube_netpol::source::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files = vec![("pods.yaml".to_string(), text.to_string())];
    let Ok(audit) = audit(&files, &[], &Limits::default()) else {
        return;
    };
    let _ = audit.to_text();
    let _ = audit.to_json();
    for command in audit.groups.iter().filter_map(|g| g.restart.as_deref()) {
        assert!(
            command
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " -./#;,".contains(c)),
            "{command:?}"
        );
    }
});

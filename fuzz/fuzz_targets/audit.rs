//! The injection audit: any text gives an audit or an error, and a restart command never holds
//! anything but Kubernetes names and the command's own words.
#![no_main]

use dynakube_netpol::audit::audit;
use dynakube_netpol::ci::Format;
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
    // Rendering cannot fail or panic on data, in any format.
    for format in [Format::Text, Format::Json, Format::Sarif, Format::Junit, Format::Markdown] {
        let _ = audit.render(format);
    }
    for command in audit.groups.iter().filter_map(|g| g.restart.as_deref()) {
        assert!(
            command
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " -./#;,".contains(c)),
            "{command:?}"
        );
    }
});

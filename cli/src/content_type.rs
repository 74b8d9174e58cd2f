//! Content types for site files, shared by `build` (written into the
//! manifest) and the static server, so both always agree.

use std::path::Path;

/// The Content-Type for a file, by extension.
pub fn for_path(path: &Path) -> String {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        // Browsers require exactly this for WebAssembly.instantiateStreaming.
        "wasm" => "application/wasm".to_string(),
        "js" | "mjs" => "text/javascript".to_string(),
        _ => mime_guess::from_ext(ext)
            .first_or_octet_stream()
            .to_string(),
    }
}

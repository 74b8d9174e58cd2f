//! BitTorrent v1 torrents (BEP 3) with BEP 47 padding files and BEP 19 web
//! seeds: building the canonical bytes and parsing untrusted ones.
//!
//! ```text
//! d                                    root (a .torrent file)
//!   4:info d                           the info dictionary; info hash = SHA-1 of its bytes
//!     5:files l                        multi-file mode (single-file `length` is read too)
//!       d 6:lengthi<n>e 4:pathl<components>e e
//!       d 4:attr1:p 6:lengthi<n>e 4:pathl4:.pad<n as text>e e    (BEP 47 padding)
//!     e
//!     4:name<site name>
//!     12:piece lengthi<n>e
//!     6:pieces<20 bytes per piece>
//!   e
//!   8:url-list l<web seed URLs>e       (BEP 19, only when given)
//! e
//! ```
//!
//! Parsing checks the structure, not the policy of `peercdn build`: any
//! positive piece length, any file order; path components must be safe
//! (non-empty, UTF-8, no `.`/`..`, no `/` or NUL).

use crate::sorted::SortedMap;

use super::{sha1, ManifestError, PieceLayout, Sha1Digest};
use crate::bencode::{self, Limits, Value};
use crate::encoding::quoted;

/// Largest piece length a parsed torrent may declare (guards allocation).
const MAX_PARSED_PIECE_LENGTH: u64 = 64 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TorrentFile {
    /// Path components relative to the torrent's root directory.
    pub path: Vec<String>,
    pub length: u64,
    /// A BEP 47 padding file (`attr` contains `p`): zeros, never an asset.
    pub padding: bool,
}

impl TorrentFile {
    /// The BEP 47 padding file of `length` zero bytes.
    pub fn padding(length: u64) -> TorrentFile {
        TorrentFile {
            path: vec![".pad".to_string(), length.to_string()],
            length,
            padding: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfoDict {
    pub name: String,
    pub piece_length: u64,
    pub piece_hashes: Vec<Sha1Digest>,
    pub files: Vec<TorrentFile>,
}

impl InfoDict {
    /// The info dictionary of files at `paths` placed by `layout`: each
    /// file, then the BEP 47 padding file that follows it, if any.
    pub fn from_layout(
        name: &str,
        paths: Vec<Vec<String>>,
        layout: &PieceLayout,
        piece_hashes: Vec<Sha1Digest>,
    ) -> InfoDict {
        let mut files = Vec::with_capacity(paths.len() * 2);
        for (path, placement) in paths.into_iter().zip(&layout.placements) {
            files.push(TorrentFile {
                path,
                length: placement.length,
                padding: false,
            });
            if placement.padding > 0 {
                files.push(TorrentFile::padding(placement.padding));
            }
        }
        InfoDict {
            name: name.to_string(),
            piece_length: layout.piece_length,
            piece_hashes,
            files,
        }
    }

    /// The canonical bencoding: the bytes whose SHA-1 is the info hash.
    pub fn to_bencode(&self) -> Vec<u8> {
        let pieces: Vec<u8> = self.piece_hashes.concat();
        let files = self.files.iter().map(file_value).collect();
        bencode::encode(&Value::dict([
            ("files", Value::List(files)),
            ("name", Value::str(&self.name)),
            ("piece length", Value::Int(to_i64(self.piece_length))),
            ("pieces", Value::Bytes(&pieces)),
        ]))
    }

    pub fn info_hash(&self) -> Sha1Digest {
        sha1(&self.to_bencode())
    }

    /// Bytes in the torrent, padding included.
    pub fn total_length(&self) -> u64 {
        self.files.iter().map(|f| f.length).sum()
    }

    /// Parses a bencoded info dictionary from untrusted bytes.
    pub fn parse(bytes: &[u8]) -> Result<InfoDict, ManifestError> {
        let value = bencode::decode(bytes, &Limits::default())?;
        InfoDict::from_value(&value)
    }

    fn from_value(info: &Value<'_>) -> Result<InfoDict, ManifestError> {
        let dict = info
            .as_dict()
            .ok_or_else(|| ManifestError::invalid("info", "not a dictionary"))?;
        let name = utf8(bytes_field(dict, "name")?, "name")?;
        let piece_length = u64_field(dict, "piece length")?;
        if piece_length == 0 || piece_length > MAX_PARSED_PIECE_LENGTH {
            return Err(ManifestError::invalid(
                "piece length",
                format!("{piece_length} is out of range"),
            ));
        }
        let files = match dict.get(b"files".as_slice()) {
            Some(list) => parse_files(list)?,
            None => vec![TorrentFile {
                path: vec![name.clone()],
                length: u64_field(dict, "length")?,
                padding: false,
            }],
        };
        let total = files
            .iter()
            .try_fold(0u64, |sum, f| sum.checked_add(f.length))
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or_else(|| ManifestError::invalid("files", "total length overflows"))?;
        let piece_hashes = parse_pieces(bytes_field(dict, "pieces")?)?;
        let expected = total.div_ceil(piece_length);
        if piece_hashes.len() as u64 != expected {
            return Err(ManifestError::invalid(
                "pieces",
                format!("{} hashes for {expected} pieces", piece_hashes.len()),
            ));
        }
        Ok(InfoDict {
            name,
            piece_length,
            piece_hashes,
            files,
        })
    }
}

/// A whole `.torrent` file: the info dictionary and the optional web seeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Torrent {
    pub info: InfoDict,
    pub url_list: Vec<String>,
}

impl Torrent {
    pub fn to_bytes(&self) -> Vec<u8> {
        let info = self.info.to_bencode();
        // Re-decoding our own canonical encoding cannot fail; encode the
        // root by hand instead so no error path exists at all.
        let mut out = b"d4:info".to_vec();
        out.extend_from_slice(&info);
        if !self.url_list.is_empty() {
            let urls = self.url_list.iter().map(|u| Value::str(u)).collect();
            out.extend_from_slice(b"8:url-list");
            bencode::encode_into(&Value::List(urls), &mut out);
        }
        out.push(b'e');
        out
    }

    /// Parses a `.torrent` file; returns it with its info hash.
    pub fn parse(bytes: &[u8]) -> Result<(Torrent, Sha1Digest), ManifestError> {
        let root = bencode::decode(bytes, &Limits::default())?;
        let info_value = root.get("info").ok_or(ManifestError::Missing("info"))?;
        let info = InfoDict::from_value(info_value)?;
        // The decoder accepts only canonical bytes, so re-encoding gives back
        // exactly the bytes the info hash is defined over.
        let info_hash = sha1(&bencode::encode(info_value));
        let url_list = match root.get("url-list") {
            None => Vec::new(),
            Some(Value::Bytes(b)) => vec![utf8(b, "url-list")?],
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v.as_bytes() {
                    Some(b) => utf8(b, "url-list"),
                    None => Err(ManifestError::invalid("url-list", "entry is not a string")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ManifestError::invalid("url-list", "not a list")),
        };
        Ok((Torrent { info, url_list }, info_hash))
    }
}

fn file_value(file: &TorrentFile) -> Value<'_> {
    let path = file.path.iter().map(|c| Value::str(c)).collect();
    let mut pairs = vec![
        ("length", Value::Int(to_i64(file.length))),
        ("path", Value::List(path)),
    ];
    if file.padding {
        pairs.push(("attr", Value::str("p")));
    }
    Value::dict(pairs)
}

/// Lengths are bounded by the layout (`PieceLayout::new`) and by parsing;
/// saturate rather than panic if a caller built an absurd `InfoDict`.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

type Dict<'v, 'a> = &'v SortedMap<&'a [u8], Value<'a>>;

fn bytes_field<'a>(dict: Dict<'_, 'a>, key: &'static str) -> Result<&'a [u8], ManifestError> {
    match dict.get(key.as_bytes()) {
        None => Err(ManifestError::Missing(key)),
        Some(v) => v
            .as_bytes()
            .ok_or_else(|| ManifestError::invalid(key, "not a byte string")),
    }
}

fn u64_field(dict: Dict<'_, '_>, key: &'static str) -> Result<u64, ManifestError> {
    match dict.get(key.as_bytes()) {
        None => Err(ManifestError::Missing(key)),
        Some(v) => v
            .as_int()
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| ManifestError::invalid(key, "not a non-negative integer")),
    }
}

fn utf8(bytes: &[u8], field: &'static str) -> Result<String, ManifestError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ManifestError::invalid(field, "not UTF-8"))
}

fn parse_files(list: &Value<'_>) -> Result<Vec<TorrentFile>, ManifestError> {
    let items = list
        .as_list()
        .ok_or_else(|| ManifestError::invalid("files", "not a list"))?;
    if items.is_empty() {
        return Err(ManifestError::invalid("files", "empty"));
    }
    items.iter().map(parse_file).collect()
}

fn parse_file(item: &Value<'_>) -> Result<TorrentFile, ManifestError> {
    let dict = item
        .as_dict()
        .ok_or_else(|| ManifestError::invalid("files", "entry is not a dictionary"))?;
    let length = u64_field(dict, "length")?;
    let components = dict
        .get(b"path".as_slice())
        .ok_or(ManifestError::Missing("path"))?
        .as_list()
        .ok_or_else(|| ManifestError::invalid("path", "not a list"))?;
    if components.is_empty() {
        return Err(ManifestError::invalid("path", "empty"));
    }
    let path = components
        .iter()
        .map(|c| safe_component(c.as_bytes().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    let padding = match dict.get(b"attr".as_slice()) {
        None => false,
        Some(v) => v
            .as_bytes()
            .ok_or_else(|| ManifestError::invalid("attr", "not a byte string"))?
            .contains(&b'p'),
    };
    Ok(TorrentFile {
        path,
        length,
        padding,
    })
}

fn safe_component(bytes: &[u8]) -> Result<String, ManifestError> {
    let text = utf8(bytes, "path")?;
    if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\0']) {
        return Err(ManifestError::invalid(
            "path",
            format!("unsafe component {}", quoted(&text)),
        ));
    }
    Ok(text)
}

fn parse_pieces(bytes: &[u8]) -> Result<Vec<Sha1Digest>, ManifestError> {
    if bytes.len() % 20 != 0 {
        return Err(ManifestError::invalid(
            "pieces",
            "length is not a multiple of 20",
        ));
    }
    Ok(bytes
        .chunks_exact(20)
        .map(|c| {
            let mut digest = [0u8; 20];
            digest.copy_from_slice(c);
            digest
        })
        .collect())
}

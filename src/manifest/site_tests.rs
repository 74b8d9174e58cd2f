//! `peercdn.json` v2: each hash once, and every disagreement with the info
//! dictionary refused with the field named.

use super::*;
use crate::manifest::in_memory_site;

fn site() -> (InfoDict, SiteManifest) {
    let assets: [(&str, &str, &[u8]); 3] = [
        ("a.html", "text/html", &[1u8; 40_000]),
        ("b/empty.txt", "text/plain", &[]),
        ("c.bin", "application/octet-stream", &[7u8; 70_000]),
    ];
    let built = in_memory_site("site", &assets, 16 * 1024).expect("site");
    let types: Vec<String> = assets.iter().map(|(_, t, _)| t.to_string()).collect();
    let manifest = SiteManifest::new(
        &built.info,
        &types,
        Vec::new(),
        &built.manifest.piece_sha256,
    );
    (built.info, manifest)
}

#[test]
fn a_built_manifest_verifies_with_places_derived_from_the_info() {
    let (info, manifest) = site();
    let verified = manifest.verify().expect("verifies");
    assert_eq!(verified.piece_hashes, info.piece_hashes);
    assert_eq!(verified.total_length, info.total_length());
    let places: Vec<(u64, u64)> = verified
        .assets
        .iter()
        .map(|a| (a.first_piece, a.offset))
        .collect();
    // 40,000 bytes take 3 pieces of 16 KiB; the empty file takes none.
    assert_eq!(places, [(0, 0), (3, 3 * 16384), (3, 3 * 16384)]);
}

#[test]
fn each_piece_hash_is_in_it_once() {
    let (info, manifest) = site();
    let json = serde_json::to_string(&manifest).unwrap();
    for hash in &info.piece_hashes {
        assert!(
            !json.contains(&hex_encode(hash)),
            "a hash in hex beside the info dictionary"
        );
    }
    // Beside the dictionary (in base64): the info hash, the SHA-256 list,
    // and a path, a type and a length per asset.
    assert_eq!(manifest.info.len(), info.to_bencode().len().div_ceil(3) * 4);
    assert_eq!(
        manifest.sha256.len(),
        (info.piece_hashes.len() * 32).div_ceil(3) * 4
    );
    let per_asset: usize = manifest
        .assets
        .iter()
        .map(|a| a.path.len() + a.content_type.len() + 50)
        .sum();
    assert!(
        json.len() <= manifest.info.len() + manifest.sha256.len() + 140 + per_asset,
        "{} bytes: {json}",
        json.len()
    );
}

#[test]
fn each_piece_has_its_sha256_over_the_bytes_its_sha1_covers() {
    let (info, manifest) = site();
    let verified = manifest.verify().unwrap();
    assert_eq!(verified.piece_sha256.len(), info.piece_hashes.len());
    // Piece 2 ends a.html (40,000 bytes of 1s): 7,232 bytes, then padding.
    let mut piece = vec![1u8; 40_000 - 2 * 16384];
    piece.resize(16384, 0);
    assert_eq!(verified.piece_sha256[2], crate::manifest::sha256(&piece));
}

#[test]
fn a_sha256_list_of_the_wrong_length_is_refused() {
    let (_, mut manifest) = site();
    let mut bytes = crate::encoding::base64_decode(&manifest.sha256).unwrap();
    bytes.truncate(bytes.len() - 32);
    manifest.sha256 = base64_encode(&bytes);
    assert!(matches!(
        manifest.verify(),
        Err(ManifestError::Mismatch {
            field: "sha256",
            ..
        })
    ));
}

#[test]
fn a_version_1_manifest_is_refused_with_what_to_do() {
    let (_, mut manifest) = site();
    manifest.version = 1;
    let error = manifest.verify().unwrap_err().to_string();
    assert!(
        error.contains("version 1") && error.contains("peercdn build"),
        "{error}"
    );
}

#[test]
fn a_wrong_info_hash_is_refused() {
    let (_, mut manifest) = site();
    manifest.info_hash = "00".repeat(20);
    assert!(matches!(
        manifest.verify(),
        Err(ManifestError::InfoHashMismatch { .. })
    ));
}

/// A change made to a good manifest.
type Change = fn(&mut SiteManifest);

#[test]
fn assets_that_disagree_with_the_info_are_refused() {
    let cases: [(&str, Change); 6] = [
        ("renamed", |m| m.assets[0].path = "z.html".into()),
        ("longer", |m| m.assets[2].length += 1),
        ("one missing", |m| drop(m.assets.pop())),
        ("one more", |m| m.assets.push(m.assets[2].clone())),
        ("empty type", |m| m.assets[1].content_type.clear()),
        ("control in type", |m| {
            m.assets[1].content_type = "text/plain\r\nX: y".into()
        }),
    ];
    for (case, change) in cases {
        let (_, mut manifest) = site();
        change(&mut manifest);
        let error = manifest.verify().expect_err(case);
        assert!(
            matches!(
                error,
                ManifestError::Mismatch { .. } | ManifestError::Invalid { .. }
            ),
            "{case}: {error}"
        );
    }
}

#[test]
fn a_piece_length_beside_the_info_must_match_it() {
    let (_, mut manifest) = site();
    manifest.piece_length *= 2;
    assert!(matches!(
        manifest.verify(),
        Err(ManifestError::Mismatch {
            field: "piece_length",
            ..
        })
    ));
}

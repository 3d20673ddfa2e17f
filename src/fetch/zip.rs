//! One member out of a zip archive (Stanford ships GloVe as a zip): found
//! through the central directory, inflated with flate2 and checked against
//! its CRC-32. Zip64 and encryption are refused by name. Not a general zip
//! library: the `zip` crate would bring a dozen more crates to build for
//! this one read.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

/// Writes the member `name` of the zip at `zip` to `out`.
pub fn extract(zip: &Path, name: &str, out: &mut impl Write) -> Result<()> {
    let bad = |why: String| Error::file(zip, why);
    let mut file = std::fs::File::open(zip).map_err(|e| Error::io(zip, e))?;
    let len = file.metadata().map_err(|e| Error::io(zip, e))?.len();
    // The end-of-central-directory record is in the last 64 kB + 22 bytes.
    let tail_len = len.min(65_557);
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(len - tail_len))
        .map_err(|e| Error::io(zip, e))?;
    file.read_exact(&mut tail).map_err(|e| Error::io(zip, e))?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| bad("not a zip archive (no end of central directory)".into()))?;
    let (entries, cd_size, cd_offset) = (
        u16_at(&tail, eocd + 10),
        u32_at(&tail, eocd + 12),
        u32_at(&tail, eocd + 16),
    );
    if cd_offset == 0xFFFF_FFFF || entries == 0xFFFF {
        return Err(bad("a zip64 archive, which genrelab does not read".into()));
    }
    let mut cd = vec![0u8; cd_size as usize];
    file.seek(SeekFrom::Start(cd_offset))
        .map_err(|e| Error::io(zip, e))?;
    file.read_exact(&mut cd).map_err(|e| Error::io(zip, e))?;
    let mut at = 0usize;
    let mut names = Vec::new();
    for _ in 0..entries {
        if cd.len() < at + 46 || cd[at..at + 4] != [0x50, 0x4b, 0x01, 0x02] {
            return Err(bad("a damaged central directory".into()));
        }
        let (flags, method, crc) = (
            u16_at(&cd, at + 8),
            u16_at(&cd, at + 10),
            u32_at(&cd, at + 16),
        );
        let (csize, usize_) = (u32_at(&cd, at + 20), u32_at(&cd, at + 24));
        let (nlen, xlen, clen) = (
            u16_at(&cd, at + 28),
            u16_at(&cd, at + 30),
            u16_at(&cd, at + 32),
        );
        let local = u32_at(&cd, at + 42);
        let entry = String::from_utf8_lossy(&cd[at + 46..at + 46 + nlen as usize]).into_owned();
        at += 46 + (nlen + xlen + clen) as usize;
        if entry != name {
            names.push(entry);
            continue;
        }
        if flags & 1 != 0 {
            return Err(bad(format!("member {name} is encrypted")));
        }
        let mut header = [0u8; 30];
        file.seek(SeekFrom::Start(local))
            .map_err(|e| Error::io(zip, e))?;
        file.read_exact(&mut header)
            .map_err(|e| Error::io(zip, e))?;
        let data = local + 30 + u16_at(&header, 26) + u16_at(&header, 28);
        file.seek(SeekFrom::Start(data))
            .map_err(|e| Error::io(zip, e))?;
        let raw = (&mut file).take(csize);
        let mut reader: Box<dyn Read> = match method {
            0 => Box::new(raw),
            8 => Box::new(flate2::read::DeflateDecoder::new(raw)),
            m => {
                return Err(bad(format!(
                    "member {name} uses compression method {m}; genrelab reads stored and deflated members"
                )));
            }
        };
        let mut crc32 = flate2::Crc::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut written = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| bad(format!("member {name} cannot be inflated: {e}")))?;
            if n == 0 {
                break;
            }
            crc32.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| Error::invalid(format!("writing {name}: {e}")))?;
            written += n as u64;
        }
        if written != usize_ || u64::from(crc32.sum()) != crc {
            return Err(bad(format!(
                "member {name} is damaged: {written} bytes with CRC {:08x}, the archive says {usize_} bytes with CRC {crc:08x}",
                crc32.sum()
            )));
        }
        return Ok(());
    }
    Err(bad(format!(
        "no member {name} (it holds {})",
        names.join(", ")
    )))
}

//! `genrelab kernel install`: writes the kernelspec Jupyter finds kernels
//! by — `kernels/genrelab/kernel.json` (this binary's absolute path,
//! interrupt_mode "message") and the logos — under the chosen data folder.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use crate::error::{Error, Result};
use crate::plot::Figure;
use crate::record::ImageFormat;

/// Where the kernelspec goes (Jupyter's own `--user`, `--sys-prefix`, `--prefix`).
#[derive(Clone, Debug, PartialEq)]
pub enum Destination {
    /// `$JUPYTER_DATA_DIR`, else `${XDG_DATA_HOME:-~/.local/share}/jupyter`.
    User,
    /// The active Python environment (`$VIRTUAL_ENV` or `$CONDA_PREFIX`).
    SysPrefix,
    /// `DIR/share/jupyter`.
    Prefix(PathBuf),
}

/// The `jupyter` data folder of `destination`, from the environment as given.
pub fn data_dir(
    destination: &Destination,
    env: impl Fn(&str) -> Option<String>,
) -> Result<PathBuf> {
    match destination {
        Destination::User => {
            if let Some(dir) = env("JUPYTER_DATA_DIR") {
                return Ok(PathBuf::from(dir));
            }
            let base = env("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| env("HOME").map(|h| Path::new(&h).join(".local/share")))
                .ok_or_else(|| {
                    Error::invalid("--user: neither JUPYTER_DATA_DIR, XDG_DATA_HOME nor HOME is set; use --prefix DIR")
                })?;
            Ok(base.join("jupyter"))
        }
        Destination::SysPrefix => {
            let prefix = env("VIRTUAL_ENV").or_else(|| env("CONDA_PREFIX")).ok_or_else(|| {
                Error::invalid(
                    "--sys-prefix: no Python environment is active (VIRTUAL_ENV and CONDA_PREFIX are unset); \
                     activate the one Jupyter runs from, or use --user or --prefix DIR",
                )
            })?;
            Ok(Path::new(&prefix).join("share/jupyter"))
        }
        Destination::Prefix(dir) => Ok(dir.join("share/jupyter")),
    }
}

/// Writes the kernelspec `name` for the binary `program` into `jupyter_dir`;
/// returns the kernelspec's folder. `data` (the data folder found now) is
/// written into the spec's environment, so notebooks anywhere find it.
pub fn install(
    jupyter_dir: &Path,
    name: &str,
    program: &Path,
    data: Option<&Path>,
) -> Result<PathBuf> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(Error::invalid(format!(
            "--name '{name}': a kernel name uses letters, digits, '.', '_' and '-' only"
        )));
    }
    let folder = jupyter_dir.join("kernels").join(name.to_ascii_lowercase());
    std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    let mut env = serde_json::Map::new();
    if let Some(data) = data {
        env.insert("GENRELAB_DATA".into(), json!(data.display().to_string()));
    }
    let spec = json!({
        "argv": [program.display().to_string(), "kernel", "{connection_file}"],
        "display_name": "genrelab (Rhai)",
        "language": "rhai",
        "interrupt_mode": "message",
        "env": env,
        "metadata": { "debugger": false },
    });
    let text = serde_json::to_string_pretty(&spec).map_err(|e| Error::invalid(e.to_string()))?;
    crate::io_util::write_bytes_atomic(&folder.join("kernel.json"), text.as_bytes())?;
    for (file, format, size) in [
        ("logo-32x32.png", ImageFormat::Png, 32),
        ("logo-64x64.png", ImageFormat::Png, 64),
        ("logo-svg.svg", ImageFormat::Svg, 64),
    ] {
        let bytes = crate::plot::render(&Logo, format, (size, size)).map_err(|why| {
            Error::file(folder.join(file), format!("cannot draw the logo: {why}"))
        })?;
        crate::io_util::write_bytes_atomic(&folder.join(file), &bytes)?;
    }
    Ok(folder)
}

/// A bar chart in white on viridis blue: genres counted, the workbench's first plot.
struct Logo;

impl Figure for Logo {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        area.fill(&RGBColor(49, 104, 142)).map_err(err)?;
        let bar = |left: f64, height: f64, color: RGBColor| {
            let x0 = (left * f64::from(w)) as i32;
            let x1 = x0 + (0.2 * f64::from(w)) as i32;
            let y0 = h - (0.15 * f64::from(h)) as i32;
            let y1 = y0 - (height * f64::from(h)) as i32;
            Rectangle::new([(x0, y1), (x1, y0)], color.filled())
        };
        area.draw(&bar(0.15, 0.7, RGBColor(253, 231, 37)))
            .map_err(err)?;
        area.draw(&bar(0.4, 0.45, WHITE)).map_err(err)?;
        area.draw(&bar(0.65, 0.25, WHITE)).map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn destinations_follow_jupyter() {
        let user = data_dir(&Destination::User, env(&[("HOME", "/home/a")])).unwrap();
        assert_eq!(user, Path::new("/home/a/.local/share/jupyter"));
        let xdg = data_dir(
            &Destination::User,
            env(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x")]),
        )
        .unwrap();
        assert_eq!(xdg, Path::new("/x/jupyter"));
        let jd = data_dir(&Destination::User, env(&[("JUPYTER_DATA_DIR", "/j")])).unwrap();
        assert_eq!(jd, Path::new("/j"));
        let venv = data_dir(&Destination::SysPrefix, env(&[("VIRTUAL_ENV", "/v")])).unwrap();
        assert_eq!(venv, Path::new("/v/share/jupyter"));
        let none = data_dir(&Destination::SysPrefix, env(&[]))
            .unwrap_err()
            .to_string();
        assert!(none.contains("no Python environment is active"), "{none}");
        let prefix = data_dir(&Destination::Prefix("/p".into()), env(&[])).unwrap();
        assert_eq!(prefix, Path::new("/p/share/jupyter"));
    }

    #[test]
    fn writes_kernel_json_and_logos() {
        let dir = tempfile::tempdir().unwrap();
        let folder = install(
            dir.path(),
            "genrelab",
            Path::new("/opt/bin/genrelab"),
            Some(Path::new("/d")),
        )
        .unwrap();
        assert_eq!(folder, dir.path().join("kernels/genrelab"));
        let spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("kernel.json")).unwrap()).unwrap();
        assert_eq!(
            spec["argv"],
            json!(["/opt/bin/genrelab", "kernel", "{connection_file}"])
        );
        assert_eq!(spec["interrupt_mode"], "message");
        assert_eq!(spec["language"], "rhai");
        assert_eq!(spec["env"]["GENRELAB_DATA"], "/d");
        let png = std::fs::read(folder.join("logo-64x64.png")).unwrap();
        let logo = image::load_from_memory(&png).unwrap();
        assert_eq!((logo.width(), logo.height()), (64, 64));
        assert!(
            std::fs::read_to_string(folder.join("logo-svg.svg"))
                .unwrap()
                .contains("<svg")
        );
        let bad = install(dir.path(), "no spaces", Path::new("/x"), None)
            .unwrap_err()
            .to_string();
        assert!(bad.contains("letters, digits"), "{bad}");
    }
}

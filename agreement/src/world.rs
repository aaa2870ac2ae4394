//! The closed world Typst compiles in: one template, one data file, the
//! fonts built into this crate, and no clock.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::{Agreement, RenderError};

const TEMPLATE: &str = include_str!("agreement.typ");

/// The fonts and the standard library, loaded once per process.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
    Shared { library: LazyHash::new(Library::default()), book: LazyHash::new(FontBook::from_fonts(&fonts)), fonts }
});

fn file_id(path: &str) -> Result<FileId, RenderError> {
    let vpath = VirtualPath::new(path).map_err(|err| RenderError::Typeset(format!("{path}: {err:?}")))?;
    Ok(FileId::new(RootedPath::new(VirtualRoot::Project, vpath)))
}

struct AgreementWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
}

impl World for AgreementWorld {
    fn library(&self) -> &LazyHash<Library> {
        &SHARED.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &SHARED.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(not_here(id)) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id { Ok(self.data.clone()) } else { Err(not_here(id)) }
    }

    fn font(&self, index: usize) -> Option<Font> {
        SHARED.fonts.get(index).cloned()
    }

    /// No clock: the agreement states its own issue date, so the same input
    /// gives the same bytes on any day.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_here(id: FileId) -> FileError {
    FileError::NotFound(id.get().vpath().get_without_slash().into())
}

fn messages(diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics.iter().map(|d| d.message.as_str()).collect::<Vec<_>>().join("; ")
}

pub(crate) fn render(agreement: &Agreement) -> Result<Vec<u8>, RenderError> {
    let data = serde_json::to_vec(agreement).map_err(|err| RenderError::Typeset(err.to_string()))?;
    let world = AgreementWorld {
        main: Source::new(file_id("agreement.typ")?, TEMPLATE.to_owned()),
        data_id: file_id("agreement.json")?,
        data: Bytes::new(data),
    };
    let compiled = typst::compile::<PagedDocument>(&world);
    let document = compiled.output.map_err(|errors| RenderError::Typeset(messages(&errors)));
    let pdf = document.and_then(|document| {
        let options = PdfOptions {
            // A stable document id, from the reference, instead of one from the clock.
            ident: Smart::Custom(agreement.reference.clone()),
            creator: Smart::Custom(Some("Petbridge".to_owned())),
            ..PdfOptions::default()
        };
        typst_pdf::pdf(&document, &options).map_err(|errors| RenderError::Pdf(messages(&errors)))
    });
    // Typst memoizes layouts across compilations; each agreement is new
    // text, so keeping them would only grow the process.
    comemo::evict(0);
    pdf
}

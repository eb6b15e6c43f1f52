//! PostgREST's error JSON (`code`, `message`, `details`, `hint`) and the statuses PostgREST gives each failure.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One failed request, rendered as PostgREST renders it.
#[derive(Debug)]
pub struct GatewayError {
    status: StatusCode,
    code: String,
    message: String,
    details: Option<String>,
    hint: Option<String>,
}

impl GatewayError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), message: message.into(), details: None, hint: None }
    }

    fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// A request the query grammar cannot parse (PGRST100).
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PGRST100", message)
    }

    /// A PostgREST feature this local gateway does not reproduce; answering 400 keeps divergences visible.
    pub fn unsupported(feature: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST100",
            format!("unsupported by the local PostgREST gateway: {}", feature.into()),
        )
    }

    /// A request body that is not the JSON the route needs (PGRST102).
    pub fn bad_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PGRST102", message)
    }

    /// A `Range` or `limit`/`offset` that cannot be satisfied (PGRST103).
    pub fn range(message: impl Into<String>) -> Self {
        Self::new(StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103", message)
    }

    /// A schema other than `public` asked for with `Accept-Profile`/`Content-Profile` (PGRST106).
    pub fn schema(name: &str) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "PGRST106", "The schema must be one of the following: public")
            .with_details(format!("requested schema: {name}"))
    }

    /// `Accept: application/vnd.pgrst.object+json` but the result is not exactly one row (PGRST116).
    pub fn not_single(rows: usize) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "PGRST116", "JSON object requested, multiple (or no) rows returned")
            .with_details(format!("The result contains {rows} rows"))
    }

    /// No function of that name takes exactly these named arguments (PGRST202).
    pub fn no_function(signature: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "PGRST202",
            format!("Could not find the function public.{signature} in the schema cache"),
        )
    }

    /// A missing, malformed or badly signed JWT (PGRST301) or an expired one (PGRST303).
    pub fn jwt(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// Neither `Authorization` nor `apikey` was sent; Supabase's API gateway refuses such requests.
    pub fn no_api_key() -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, "PGRST301", "No API key found in request");
        error.hint = Some("No `apikey` request header or url param was found.".to_owned());
        error
    }

    /// The database cannot be reached (PGRST000/PGRST001 in PostgREST).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "PGRST001", message)
    }

    /// Maps a Postgres error to PostgREST's status for its SQLSTATE; `anonymous` decides 401 vs 403 on 42501.
    pub fn from_postgres(error: &tokio_postgres::Error, anonymous: bool) -> Self {
        let Some(db) = error.as_db_error() else {
            return Self::unavailable(format!("Database client error: {error}"));
        };
        let code = db.code().code();
        let mut mapped = Self::new(status_for_sqlstate(code, anonymous), code, db.message());
        mapped.details = db.detail().map(str::to_owned);
        mapped.hint = db.hint().map(str::to_owned);
        mapped
    }

    /// The HTTP status this error is sent with.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// PostgREST's table of SQLSTATE classes to HTTP statuses ("Errors" in the PostgREST documentation).
fn status_for_sqlstate(code: &str, anonymous: bool) -> StatusCode {
    // `RAISE SQLSTATE 'PT404'` picks the HTTP status itself.
    if let Some(status) = code.strip_prefix("PT").and_then(|s| s.parse::<u16>().ok()) {
        if let Ok(status) = StatusCode::from_u16(status) {
            return status;
        }
    }
    match code {
        "23503" | "23505" => StatusCode::CONFLICT,
        "25006" => StatusCode::METHOD_NOT_ALLOWED,
        "42883" | "42P01" => StatusCode::NOT_FOUND,
        "42501" if anonymous => StatusCode::UNAUTHORIZED,
        "42501" => StatusCode::FORBIDDEN,
        "P0001" => StatusCode::BAD_REQUEST,
        _ => match &code[..2.min(code.len())] {
            "08" | "53" => StatusCode::SERVICE_UNAVAILABLE,
            "0L" | "0P" | "28" => StatusCode::FORBIDDEN,
            "09" | "25" | "2D" | "38" | "39" | "3B" | "40" | "54" | "55" | "57" | "58" | "F0" | "HV" | "P0" | "XX" => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        },
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "message": self.message, "details": self.details, "hint": self.hint });
        (self.status, [("content-type", "application/json; charset=utf-8")], body.to_string()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_postgrest_statuses() {
        let cases = [
            ("23505", false, 409),
            ("23503", false, 409),
            ("23514", false, 400),
            ("22P02", false, 400),
            ("42501", true, 401),
            ("42501", false, 403),
            ("42P01", false, 404),
            ("42883", false, 404),
            ("P0001", false, 400),
            ("40001", false, 500),
            ("08006", false, 503),
            ("PT409", false, 409),
            ("PT404", true, 404),
        ];
        for (code, anonymous, status) in cases {
            assert_eq!(status_for_sqlstate(code, anonymous).as_u16(), status, "{code}");
        }
    }
}

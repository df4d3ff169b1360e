//! Custom APIs' declarations (`stanchion catalog declare`), looked up in the store for each
//! request that calls one, before classification: the parser knows a custom API's name and
//! binding; what it touches is the admin's word. Not declared: it stays `None` and the request
//! is Unclassified.

use dataverse::request::{Message, Operation, Request};

/// Fills the declaration of the custom API a request calls, if it calls one.
pub(crate) async fn fill(store: &store::Store, request: &mut Request) -> Result<(), store::StoreError> {
    if let Operation::Message(Message::Custom { name, declared, .. }) = &mut request.operation {
        *declared = store.declaration(name).await?;
    }
    Ok(())
}

//! The MCP server handler: `tools/list` from the caller's policy, `tools/call` through
//! [`crate::calls`], every refusal recorded.

use crate::answers::CallError;
use crate::calls::Call;
use crate::tools;
use gateway::{Gateway, McpCaller};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use std::future::Future;
use std::sync::Arc;

/// What the server needs per request: the gateway and the result cap.
#[derive(Clone)]
pub struct StanchionMcp {
    pub(crate) gw: Arc<Gateway>,
    pub(crate) max_result_bytes: usize,
    pub(crate) page_size: u32,
}

const INSTRUCTIONS: &str = "Dynamics 365 (Dataverse) through Stanchion. You act as a Stanchion agent with its own access: \
start with list_tables to see which tables you may use and at which level, then describe_table for columns. \
Tables and columns are logical names (account, contact, name, emailaddress1). Every call is checked and recorded; \
a refused call explains why.";

/// The authenticated caller the HTTP layer put into the request (see [`crate::http`]).
fn caller(context: &RequestContext<RoleServer>) -> Result<McpCaller, ErrorData> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<McpCaller>())
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("the MCP request carries no authenticated agent", None))
}

impl StanchionMcp {
    async fn list(&self, context: RequestContext<RoleServer>) -> Result<ListToolsResult, ErrorData> {
        let caller = caller(&context)?;
        let schema = self.gw.current_schema().await.map_err(|e| ErrorData::internal_error(e, None))?;
        let policy = self
            .gw
            .policy_of(&caller.agent)
            .await
            .map_err(|_| ErrorData::internal_error("the Stanchion store is unavailable", None))?;
        Ok(ListToolsResult::with_all_items(tools::list(&schema, &policy)))
    }

    async fn call(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = caller(&context)?;
        let name = request.name.to_string();
        let args = request.arguments.unwrap_or_default();
        let schema = match self.gw.current_schema().await {
            Ok(s) => s,
            Err(reason) => return Ok(failure(reason)),
        };
        let policy = match self.gw.policy_of(&caller.agent).await {
            Ok(p) => p,
            Err(_) => return Ok(failure("the Stanchion store is unavailable".into())),
        };
        // A tool this agent is not offered (or one that does not exist) is refused by name.
        let outcome = match tools::spec(&name) {
            None => {
                Err(CallError::Refused { code: "unclassified", message: format!("there is no MCP tool named {name}") })
            }
            Some(spec) if !tools::offered(spec, &schema, &policy) => Err(not_offered(spec)),
            Some(_) => {
                let call = Call {
                    gw: &self.gw,
                    caller: &caller,
                    tool: &name,
                    schema: &schema,
                    policy: &policy,
                    max_bytes: self.max_result_bytes,
                    page: self.page_size,
                };
                call.run(&args).await
            }
        };
        Ok(match outcome {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]).into(),
            Err(CallError::Answered(message)) => failure(message),
            Err(CallError::Refused { code, message }) => {
                match self.gw.refuse_tool(&caller, &name, code, message).await {
                    Ok(message) => failure(format!("Stanchion denied this call for {}: {message}.", caller.agent.name)),
                    Err(message) => failure(message),
                }
            }
        })
    }
}

fn failure(message: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(message)]).into()
}

/// Why a listed-only-with-access tool was refused, with the audit reason code of the access
/// it lacks.
fn not_offered(spec: &tools::ToolSpec) -> CallError {
    let (code, why) = match spec.needs {
        tools::Needs::Nothing => ("unclassified", "the tool is not available"),
        tools::Needs::Read => ("table_off", "it cannot read any table"),
        tools::Needs::Full => ("table_read_only", "it cannot change any table"),
        tools::Needs::Delete => ("delete_off", "deleting records is off for this agent"),
        tools::Needs::Action => ("action_not_granted", "no action is granted to this agent"),
    };
    CallError::Refused { code, message: why.to_owned() }
}

impl ServerHandler for StanchionMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("stanchion", env!("CARGO_PKG_VERSION")).with_title("Stanchion"))
            .with_instructions(INSTRUCTIONS)
    }

    fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, ErrorData>> + Send + '_ {
        self.list(context)
    }

    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, ErrorData>> + Send + '_ {
        self.call(request, context)
    }
}

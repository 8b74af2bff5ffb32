//! `node_called` and `faults_taken`: a test can await the moment a request
//! is held by a fault, instead of sleeping for it.

use std::time::Duration;

use amp_sandbox::{Fault, NodeFault, Sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_node_call_and_a_held_api_request_can_be_awaited() {
    let sandbox = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    sandbox.push_node_fault(
        "getblockcount",
        NodeFault::DelayAfter(Duration::from_secs(30)),
    );
    let url = sandbox.node_url_with_credentials();
    let call = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .body(r#"{"method":"getblockcount","params":[],"id":1}"#)
            .send()
            .await
    });
    sandbox.node_called("getblockcount", 1).await;
    assert_eq!(sandbox.node_count("getblockcount"), 1);
    assert!(!call.is_finished(), "the answer is held");
    call.abort();

    sandbox.push_fault("/info", Fault::Delay(Duration::from_secs(30)));
    let url = format!("{}/info", sandbox.base_url());
    let request = tokio::spawn(async move { reqwest::get(url).await });
    sandbox.faults_taken(1).await;
    assert!(!request.is_finished(), "the request is held");
    assert_eq!(sandbox.count("GET", "/info"), 0, "not answered yet");
    request.abort();
}

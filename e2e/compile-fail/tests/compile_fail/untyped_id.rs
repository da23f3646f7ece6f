// Plain text is not an id: ids are made on purpose (`MessageId::new`), so
// that two strings given in the wrong order cannot pass for each other.
use feishu::im::message::ReplyRequest;

fn main() {
    let _ = ReplyRequest::new("{\"text\":\"hi\"}", "om_1", "text");
}

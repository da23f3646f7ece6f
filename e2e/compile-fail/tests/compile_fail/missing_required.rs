// A request cannot be made without its required fields: `new` takes them
// all, and the struct is `#[non_exhaustive]`, so no literal can skip one.
use feishu::MessageId;
use feishu::im::message::ReplyRequest;

fn main() {
    let _ = ReplyRequest::new(MessageId::new("om_1"), "{\"text\":\"hi\"}");
    let _ = ReplyRequest { message_id: MessageId::new("om_1"), content: String::new(), msg_type: "text".into(), reply_in_thread: None, uuid: None };
}

// A chat id where the message id belongs: the id newtypes tell them apart.
use feishu::im::message::ReplyRequest;
use feishu::{ChatId, MessageContent};

fn main() {
    let chat = ChatId::new("oc_1");
    let _ = ReplyRequest::with_message(chat, &MessageContent::text("hi"));
}

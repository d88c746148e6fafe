import ChirpCore
import CRdKafka
import Logging

// librdkafka calls these from its own threads (log, error) or from the thread that polls
// (delivery reports). They are file-scope C functions, never closures capturing actor state;
// everything they need comes through the handle's opaque pointer.

private func context(_ handle: OpaquePointer?) -> KafkaCallbackContext? {
    guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
    return Unmanaged<KafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
}

let chirpKafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, message in
    guard let context = context(handle) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    let facilityText = facility.map { String(cString: $0) } ?? ""
    // syslog levels: 0–3 error, 4 warning, 5–6 notice/info, 7 debug.
    let logLevel: Logger.Level = level <= 3 ? .error : level == 4 ? .warning : level <= 6 ? .info : .debug
    context.logger.log(level: logLevel, "\(text)", metadata: ["librdkafka": "\(facilityText)"])
}

let chirpKafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    handle, code, reason, _ in
    guard let context = context(handle) else { return }
    let error = KafkaError(code: code, name: String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code))),
                           message: reason.map { String(cString: $0) } ?? "")
    context.logger.warning("kafka client error", metadata: ["error": "\(error)"])
    context.onError?(error)
}

let chirpKafkaDeliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    handle, message, _ in
    guard let context = context(handle), let message, let onDelivery = context.onDelivery else { return }
    let m = message.pointee
    let token = UInt64(UInt(bitPattern: m._private)) &- 1
    let report = DeliveryReport(
        token: token,
        topic: m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
        partition: m.partition,
        offset: m.offset,
        error: m.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(m.err)
    )
    onDelivery(report)
}

/// Served from the consumer's poll, on the thread that polls. It does only what librdkafka requires
/// of it, (un)assigning by the group's protocol, and records the change for the consumer's owner,
/// who acts on it after the poll (settling work, seeking to offsets stored elsewhere).
let chirpKafkaRebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = {
    handle, err, partitions, _ in
    guard let handle else { return }
    let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
    let assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
    var list: [TopicPartition] = []
    if let partitions {
        for i in 0..<Int(partitions.pointee.cnt) {
            let element = partitions.pointee.elems[i]
            list.append(TopicPartition(topic: String(cString: element.topic), partition: element.partition))
        }
    }
    let context = context(handle)
    context?.logger.info(assigned ? "partitions assigned" : "partitions revoked",
                         metadata: ["partitions": "\(list.map { "\($0.topic)/\($0.partition)" }.joined(separator: ","))"])
    if assigned {
        if cooperative {
            if let error = rd_kafka_incremental_assign(handle, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(handle, partitions)
        }
        context?.onRebalance?(true, list)
    } else {
        if cooperative {
            if let error = rd_kafka_incremental_unassign(handle, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(handle, nil)
        }
        context?.onRebalance?(false, list)
    }
}

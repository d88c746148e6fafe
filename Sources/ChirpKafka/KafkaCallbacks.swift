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

/// Served from the consumer's poll, on the thread that polls. The consumer's hook runs after an
/// assignment and before a revocation takes effect (so it can still store offsets for the
/// partitions it is about to lose); the assignment itself follows the group's protocol.
let chirpKafkaRebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = {
    handle, err, partitions, _ in
    guard let handle else { return }
    let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
    let assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
    var list: [TopicPartitionOffset] = []
    if let partitions {
        for i in 0..<Int(partitions.pointee.cnt) {
            let element = partitions.pointee.elems[i]
            list.append(TopicPartitionOffset(topic: String(cString: element.topic), partition: element.partition, offset: element.offset))
        }
    }
    let context = context(handle)
    context?.logger.info(assigned ? "partitions assigned" : "partitions revoked",
                         metadata: ["partitions": "\(list.map { "\($0.topic)/\($0.partition)" }.joined(separator: ","))"])
    if assigned {
        if let partitions, let overrides = context?.startOffsets?(list), !overrides.isEmpty {
            for i in 0..<Int(partitions.pointee.cnt) {
                let element = partitions.pointee.elems[i]
                let topic = String(cString: element.topic)
                if let start = overrides.first(where: { $0.topic == topic && $0.partition == element.partition }) {
                    partitions.pointee.elems[i].offset = start.offset
                    list[i].offset = start.offset
                }
            }
            context?.logger.info("starting from stored offsets", metadata: [
                "offsets": "\(overrides.map { "\($0.topic)/\($0.partition)@\($0.offset)" }.joined(separator: ","))"])
        }
        if cooperative {
            if let error = rd_kafka_incremental_assign(handle, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(handle, partitions)
        }
        context?.onRebalance?(true, list)
    } else {
        context?.onRebalance?(false, list)
        if cooperative {
            if let error = rd_kafka_incremental_unassign(handle, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(handle, nil)
        }
    }
}

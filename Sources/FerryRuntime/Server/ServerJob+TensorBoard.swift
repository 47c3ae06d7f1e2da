import Foundation

extension ServerJob {
    /// Adds a committed round's metrics to the job's TensorBoard event files. Best effort: the event
    /// files are a view of the round records, so a failure is logged and the job goes on.
    func writeTensorBoard(_ record: RoundRecord) {
        do {
            try TensorBoardLog(jobDirectory: directory).add(round: record)
        } catch {
            logger.warning("round \(record.round): cannot write the TensorBoard events: \(error)")
        }
    }
}

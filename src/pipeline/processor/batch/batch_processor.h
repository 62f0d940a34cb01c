// The `batch` processor. Strand batches where requests leave for the next hop: the
// processor marks each request with its BatchPolicy and passes it on at once; an
// exporter with a sending queue takes the request into its queue (the client's
// acknowledgement), and the queue's consumer side joins queued requests of the same
// policy and metadata into batches of `send_batch_size` spans (at most
// `send_batch_max_size`), or sends what it has after `timeout`. So batching never delays
// an acknowledgement, and a persistent queue holds every acknowledged span. With the
// sending queue disabled the exporter batches in front of its sender, and clients wait
// for the batch to be sent. Exporters that write locally (strand, debug) ignore the
// policy. Thread-safe.
#pragma once

#include <memory>

#include "pipeline/config/component.h"

namespace strand::pipeline {

std::unique_ptr<ProcessorFactory> NewBatchProcessorFactory();

}  // namespace strand::pipeline

// SPDX-License-Identifier: GPL-3.0-or-later
// Device selection, CPU threads and mixed precision, the same for CPU and CUDA builds of LibTorch.
#pragma once

#include <string>

#include <torch/torch.h>

namespace Winnow::nn {

/**
 * "auto" (CUDA if torch::cuda::is_available(), else CPU), "cpu", "cuda", "cuda:N".
 * @throws std::invalid_argument for an unknown spec, or "cuda" when CUDA is not available (message says so).
 */
torch::Device resolveDevice(const std::string& spec);

/// at::set_num_threads(threads::computeThreads(n)) (core/util/threads.h: n, or the physical cores when n == 0).
/// Returns the count set (>= 1). Call it once per process, early: LibTorch's intra-op pool size is global.
int setCpuThreads(int n);

/// Mixed precision for training/inference.
enum class AmpMode {
    Auto, ///< CUDA with bf16 support (compute capability >= 8): bf16 autocast; otherwise float32
    Off, ///< float32 everywhere
    BF16 ///< bf16 autocast on CUDA (ignored on CPU: float32)
};

/// How a model runs on a device.
struct RunOptions
{
    torch::Device device = torch::kCPU;
    AmpMode amp = AmpMode::Auto;
    bool channelsLast = true; ///< CUDA only: convert weights and inputs to channels_last
};

/// True if `options` means bf16 autocast on its device.
bool autocastEnabled(const RunOptions& options);

/**
 * RAII: enables CUDA autocast (bf16) for the current thread while alive when `enabled`; a no-op otherwise.
 * Hides the LibTorch 1.13 / 2.x autocast API difference.
 */
class AutocastGuard
{
public:
    explicit AutocastGuard(bool enabled);
    ~AutocastGuard();
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    bool m_enabled;
    bool m_previous = false;
};

/// Moves a module to `options.device`, in channels_last when asked and on CUDA.
void moveModule(torch::nn::Module& module, const RunOptions& options);
/// Moves a float batch to the device (non_blocking when pinned) and to channels_last when asked and on CUDA.
torch::Tensor toDevice(const torch::Tensor& images, const RunOptions& options);

} // namespace Winnow::nn

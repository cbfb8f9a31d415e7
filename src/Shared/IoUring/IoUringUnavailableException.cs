namespace KcpKestrel.IoUring;

/// <summary>io_uring cannot be used here; the message says why, for the one fallback log line.</summary>
internal sealed class IoUringUnavailableException(string reason) : Exception(reason)
{
    /// <summary>The usual causes of an io_uring_setup failure, in words.</summary>
    public static string DescribeSetupError(int errno) => errno switch
    {
        IoUringConstants.ENOSYS => "io_uring_setup is not implemented (ENOSYS: kernel older than 5.1, or built without io_uring)",
        IoUringConstants.EPERM => "io_uring_setup was refused (EPERM: kernel.io_uring_disabled, or a seccomp filter such as a container runtime's)",
        IoUringConstants.ENOMEM => "io_uring_setup ran out of locked memory (ENOMEM: RLIMIT_MEMLOCK on kernels before 5.12)",
        _ => $"io_uring_setup failed: errno {errno}",
    };
}

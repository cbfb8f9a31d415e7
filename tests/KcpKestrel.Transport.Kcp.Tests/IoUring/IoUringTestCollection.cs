namespace KcpKestrel.Transport.Kcp.Tests.IoUring;

/// <summary>Ring tests count /proc/self/fd, so nothing else may open or close descriptors meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IoUringTestCollection
{
    public const string Name = "io_uring (alone: counts file descriptors)";
}

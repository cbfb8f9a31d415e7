using System.Runtime.InteropServices;

namespace KcpKestrel.IoUring;

/// <summary>
/// What the running kernel's io_uring offers: the features of a fresh ring and the opcodes
/// IORING_REGISTER_PROBE reports as supported. Taken once at start-up; an engine asks
/// <see cref="WhyNot"/> for the reason it cannot run, null when it can.
/// </summary>
internal sealed unsafe class IoUringProbe
{
    private const int MaxOps = 256;
    private static readonly Lazy<IoUringProbe> Once = new(Run);
    private readonly bool[] _supported = new bool[MaxOps];

    private IoUringProbe(string? setupFailure)
    {
        SetupFailure = setupFailure;
    }

    /// <summary>Why no ring could be made; null when one was.</summary>
    public string? SetupFailure { get; }

    public uint Features { get; private set; }

    /// <summary>True when SINGLE_ISSUER + DEFER_TASKRUN were accepted.</summary>
    public bool DeferTaskRun { get; private set; }

    public bool Supports(IoUringOp op) => _supported[(int)op];

    public bool Has(uint feature) => (Features & feature) != 0;

    /// <summary>The process's probe, taken on first use.</summary>
    public static IoUringProbe Shared => Once.Value;

    /// <summary>Probes with a throwaway ring. Never throws.</summary>
    public static IoUringProbe Run()
    {
        IoUringRing ring;
        try
        {
            ring = IoUringRing.Create(new IoUringRingOptions { Entries = 4 });
        }
        catch (IoUringUnavailableException ex)
        {
            return new IoUringProbe(ex.Message);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return new IoUringProbe($"libc lacks what io_uring needs ({ex.GetType().Name})");
        }

        using (ring)
        {
            var probe = new IoUringProbe(null) { Features = ring.Features, DeferTaskRun = ring.DeferTaskRun };
            var size = 16 + (MaxOps * 8);
            var buffer = (byte*)NativeMemory.AllocZeroed((nuint)size);
            try
            {
                if (IoUringSyscalls.Register(ring.Fd, IoUringConstants.RegisterProbe, buffer, MaxOps) >= 0)
                {
                    // struct io_uring_probe: u8 last_op, u8 ops_len, then ops[] of 8 bytes from offset 16: u8 op, u8, u16 flags.
                    var count = buffer[1];
                    for (var i = 0; i < count; i++)
                    {
                        var entry = buffer + 16 + (i * 8);
                        if ((*(ushort*)(entry + 2) & IoUringConstants.OpSupported) != 0)
                        {
                            probe._supported[entry[0]] = true;
                        }
                    }
                }
            }
            finally
            {
                NativeMemory.Free(buffer);
            }

            return probe;
        }
    }

    /// <summary>
    /// The reason an engine needing <paramref name="ops"/> and <paramref name="features"/> cannot run
    /// here, or null when it can.
    /// </summary>
    public string? WhyNot(ReadOnlySpan<IoUringOp> ops, uint features)
    {
        if (SetupFailure is not null)
        {
            return SetupFailure;
        }

        var missing = features & ~Features;
        if (missing != 0)
        {
            return $"the kernel's io_uring lacks feature bits 0x{missing:x} (IORING_FEAT_*; an older kernel)";
        }

        foreach (var op in ops)
        {
            if (!Supports(op))
            {
                return $"the kernel's io_uring lacks the {op} opcode (an older kernel, or a restricted ring)";
            }
        }

        return null;
    }
}

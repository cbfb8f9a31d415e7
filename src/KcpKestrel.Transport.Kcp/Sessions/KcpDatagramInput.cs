using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// A session's way in, after the socket's owner opened the cipher: FEC decode (data shards at
/// once, lost ones rebuilt from parity) → the KCP segments, handed to a sink. Without FEC the
/// payload is the segments. Loop thread only.
/// </summary>
internal sealed class KcpDatagramInput : IDisposable
{
    private readonly FecDecoder? _fecDecoder;
    private readonly KcpTransportCounters _counters;
    private bool _decoding;
    private bool _releasePending;

    /// <param name="options">The endpoint's FEC shape.</param>
    /// <param name="loop">The loop: its buffer pool, counters and the codecs its sessions share.</param>
    /// <param name="budget">What the shards kept for recovery may hold, with the session's other receive buffers.</param>
    public KcpDatagramInput(KcpOptions options, IKcpLoop loop, IReceiveBudget? budget)
    {
        _counters = loop.Counters;
        if (KcpDatagramOutput.HasFec(options))
        {
            _fecDecoder = new FecDecoder(options.DataShards, options.ParityShards, loop.FecCodecs)
            {
                BufferPool = loop.BufferPool,
                ReceiveBudget = budget,
            };
        }
    }

    /// <summary>Data shards this session rebuilt from parity.</summary>
    public long FecRecovered { get; private set; }

    /// <summary>Hands the KCP segments of one opened datagram (cipher header removed) to <paramref name="sink"/>.</summary>
    public void Receive<TSink>(ReadOnlySpan<byte> payload, uint now, ref TSink sink)
        where TSink : IFecSink, allows ref struct
    {
        if (_fecDecoder is null)
        {
            sink.OnKcpPayload(payload, recovered: false);
            return;
        }

        // The sink can end the session (a close signal, a rebuilt one too) while the decoder still works on
        // its groups: their release waits until the decoder is done.
        _decoding = true;
        FecDecodeResult result;
        try
        {
            result = _fecDecoder.Decode(payload, now, ref sink);
        }
        finally
        {
            _decoding = false;
        }

        if (_releasePending)
        {
            _releasePending = false;
            _fecDecoder.ReleaseHeld();
        }

        if (result == FecDecodeResult.Recovered)
        {
            _counters.FecRecovered++;
            FecRecovered++;
        }
        else if (result >= FecDecodeResult.Truncated)
        {
            _counters.DroppedFec++;
        }
    }

    /// <summary>Adds this session's FEC figures to the transport's counters, once, when it ends.</summary>
    public void ReportEnded()
    {
        if (_fecDecoder is not null)
        {
            _counters.FecParityShardsReceived += _fecDecoder.ParityShardsReceived;
            _counters.FecShortGroups += _fecDecoder.ShortGroups;
            _counters.FecFailedReconstructs += _fecDecoder.FailedReconstructs;
        }
    }

    /// <summary>Drops the shards kept for recovery (the session ended).</summary>
    public void ReleaseHeld()
    {
        if (_decoding)
        {
            _releasePending = true;
        }
        else
        {
            _fecDecoder?.ReleaseHeld();
        }
    }

    public void Dispose() => _fecDecoder?.Dispose();
}

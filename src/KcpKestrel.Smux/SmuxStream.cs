using System.IO.Pipelines;
using KcpKestrel.Smux.Session;

namespace KcpKestrel.Smux;

/// <summary>
/// One smux stream: its own <see cref="Input"/> (the peer's data) and <see cref="Output"/> (ours). Completing
/// <see cref="Output"/> sends FIN (half-close); completing <see cref="Input"/> drops what the peer still sends.
/// The session is not closed by either. Shaped to back a Kestrel ConnectionContext's Transport.
/// </summary>
public sealed class SmuxStream : IDuplexPipe
{
    internal const int OutboundPause = 65536;

    private readonly SmuxSession _session;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private int _scheduled;
    private bool _outputDone;

    internal SmuxStream(SmuxSession session, uint id, int maxFrameSize)
    {
        _session = session;
        Id = id;
        // The inbound pipe never pauses its writer (the session's read loop): smux's accounting bounds it instead.
        _inbound = new Pipe(new PipeOptions(pool: SmuxBlockPool.Shared, pauseWriterThreshold: 0, useSynchronizationContext: false));
        var pause = Math.Max(OutboundPause, 2 * maxFrameSize);
        _outbound = new Pipe(new PipeOptions(pool: SmuxBlockPool.Shared, pauseWriterThreshold: pause, resumeWriterThreshold: pause / 2, useSynchronizationContext: false));
        Input = new SmuxStreamReader(this, _inbound.Reader);
        Output = new SmuxStreamWriter(this, _outbound.Writer);
    }

    /// <summary>The smux stream id (odd when the client side opened it, even for the server side).</summary>
    public uint Id { get; }

    /// <summary>Data the peer sent on this stream; completes at the peer's FIN, or fails when the session closes.</summary>
    public PipeReader Input { get; }

    /// <summary>
    /// Data to send; flushing schedules it, completing sends FIN after the data. v2: once the peer's FIN arrived, data
    /// still waiting for window is dropped and FIN sent (smux's writeV2 returns io.EOF there); a reset ends it too.
    /// </summary>
    public PipeWriter Output { get; }

    internal SmuxSession Session => _session;

    internal PipeWriter InboundWriter => _inbound.Writer;

    internal PipeReader OutboundReader => _outbound.Reader;

    /// <summary>Write loop only: FIN sent or the session closed, so <see cref="OutboundReader"/> is completed.</summary>
    internal bool IsOutputDone => _outputDone;

    /// <summary>Write loop only: completes <see cref="OutboundReader"/> once (which also releases a writer waiting on backpressure).</summary>
    internal void CompleteOutput()
    {
        if (!_outputDone)
        {
            _outputDone = true;
            _outbound.Reader.Complete();
        }
    }

    /// <summary>Queues the stream for the write loop unless it is queued already.</summary>
    internal void Schedule()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            _session.ScheduleData(this);
        }
    }

    /// <summary>The write loop took the stream off the queue; a later flush queues it again.</summary>
    internal void Unschedule() => Volatile.Write(ref _scheduled, 0);
}

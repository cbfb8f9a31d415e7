using System.Buffers;
using System.IO.Pipelines;

namespace KcpKestrel.Protocols.Qpp;

/// <summary>
/// kcptun's QPP layer (its <c>QPPPort</c>) over one stream, such as one smux stream: the application
/// reads decrypted bytes from <see cref="Input"/>, and what it writes to <see cref="Output"/> is
/// encrypted and flushed to the transport after every application flush. Each direction has its own
/// random stream, both starting from the key, as kcptun creates them for every stream it opens or
/// accepts; so the cipher never depends on how either side cuts its writes.
/// </summary>
/// <remarks>
/// QPP has no framing and no integrity check: any bytes decrypt to something, so there is no
/// malformed input to detect here (the KCP packet cipher authenticates, when one is set).
/// </remarks>
public sealed class QppDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly QppPad _pad;
    private readonly Pipe _decrypted;
    private readonly Pipe _plain;
    private readonly Task _inbound;
    private readonly Task _outbound;
    private QppRandom _readRandom;
    private QppRandom _writeRandom;

    /// <summary>Starts encrypting and decrypting over <paramref name="transport"/>.</summary>
    /// <param name="transport">The pipe carrying the encrypted stream; this instance completes both its sides when done.</param>
    /// <param name="pad">The pads and starting random stream, shared by all streams with this key and count.</param>
    public QppDuplexPipe(IDuplexPipe transport, QppPad pad)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(pad);
        _transport = transport;
        _pad = pad;
        _readRandom = pad.Start;
        _writeRandom = pad.Start;

        // Default thresholds (64 KiB pause): the wrapper only shifts bytes, it adds no buffering of its own worth tuning.
        var pipeOptions = new PipeOptions(useSynchronizationContext: false);
        _decrypted = new Pipe(pipeOptions);
        _plain = new Pipe(pipeOptions);
        _inbound = Task.Run(InboundAsync);
        _outbound = Task.Run(OutboundAsync);
    }

    /// <summary>Decrypted bytes from the peer.</summary>
    public PipeReader Input => _decrypted.Reader;

    /// <summary>Bytes for the peer; each flush sends them encrypted.</summary>
    public PipeWriter Output => _plain.Writer;

    /// <summary>Completes when both directions have ended, whether cleanly or not.</summary>
    public Task Completion => Task.WhenAll(_inbound, _outbound);

    /// <summary>Completes the application's sides and waits for both directions to end.</summary>
    public async ValueTask DisposeAsync()
    {
        await _plain.Writer.CompleteAsync().ConfigureAwait(false);
        await _decrypted.Reader.CompleteAsync().ConfigureAwait(false);
        _transport.Input.CancelPendingRead();
        await Completion.ConfigureAwait(false);
    }

    private Task InboundAsync() =>
        TransformPump.RunAsync(_transport.Input, _decrypted.Writer, this, static (self, buffer, target) => self.Decrypt(buffer, target));

    private Task OutboundAsync() =>
        TransformPump.RunAsync(_plain.Reader, _transport.Output, this, static (self, buffer, target) => self.Encrypt(buffer, target));

    // Synchronous helpers: spans cannot live across the pump's awaits.
    private void Decrypt(in ReadOnlySequence<byte> buffer, PipeWriter target)
    {
        foreach (var segment in buffer)
        {
            var rest = segment.Span;
            while (!rest.IsEmpty)
            {
                var span = target.GetSpan();
                var n = Math.Min(span.Length, rest.Length);
                _pad.Decrypt(rest[..n], span, ref _readRandom);
                target.Advance(n);
                rest = rest[n..];
            }
        }
    }

    private void Encrypt(in ReadOnlySequence<byte> buffer, PipeWriter target)
    {
        foreach (var segment in buffer)
        {
            var rest = segment.Span;
            while (!rest.IsEmpty)
            {
                var span = target.GetSpan();
                var n = Math.Min(span.Length, rest.Length);
                _pad.Encrypt(rest[..n], span, ref _writeRandom);
                target.Advance(n);
                rest = rest[n..];
            }
        }
    }
}

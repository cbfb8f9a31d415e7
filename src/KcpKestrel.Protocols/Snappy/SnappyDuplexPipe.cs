using System.IO.Pipelines;

namespace KcpKestrel.Protocols.Snappy;

/// <summary>
/// kcptun's compression (its CompStream, golang/snappy's framing format) over a duplex pipe such as
/// a KCP connection's transport: the application reads decompressed bytes from <see cref="Input"/>,
/// and what it writes to <see cref="Output"/> is compressed and framed, with the framed bytes flushed
/// to the transport after every application flush, as kcptun flushes after every write.
/// </summary>
/// <remarks>
/// Bytes that break the format (a chunk longer than the format allows, a bad checksum, an unknown
/// unskippable chunk type) end the stream: <see cref="Input"/> completes with an
/// <see cref="InvalidDataException"/>, the transport is completed both ways, and the
/// <c>kcpkestrel.snappy.corrupt_streams</c> counter of meter <c>KcpKestrel.Protocols.Snappy</c>
/// goes up. Flushes the transport side has not yet compressed may be framed together.
/// </remarks>
public sealed class SnappyDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly int _maxBufferedBytes;
    private readonly Pipe _decoded;
    private readonly Pipe _plain;
    private readonly Task _inbound;
    private readonly Task _outbound;

    /// <summary>Starts compressing and decompressing over <paramref name="transport"/>.</summary>
    /// <param name="transport">The pipe carrying framed bytes; this instance completes both its sides when done.</param>
    /// <param name="options">Buffer limits; defaults when null.</param>
    public SnappyDuplexPipe(IDuplexPipe transport, SnappyPipeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        options ??= new SnappyPipeOptions();
        options.Validate();
        _transport = transport;
        _maxBufferedBytes = options.MaxBufferedBytes;
        var pipeOptions = new PipeOptions(
            pauseWriterThreshold: options.MaxBufferedBytes,
            resumeWriterThreshold: options.MaxBufferedBytes / 2,
            useSynchronizationContext: false);
        _decoded = new Pipe(pipeOptions);
        _plain = new Pipe(pipeOptions);
        _inbound = Task.Run(InboundAsync);
        _outbound = Task.Run(OutboundAsync);
    }

    /// <summary>Decompressed bytes from the peer.</summary>
    public PipeReader Input => _decoded.Reader;

    /// <summary>Bytes for the peer; each flush sends them compressed and framed.</summary>
    public PipeWriter Output => _plain.Writer;

    /// <summary>Completes when both directions have ended, whether cleanly or not.</summary>
    public Task Completion => Task.WhenAll(_inbound, _outbound);

    /// <summary>Completes the application's sides and waits for both directions to end.</summary>
    public async ValueTask DisposeAsync()
    {
        await _plain.Writer.CompleteAsync().ConfigureAwait(false);
        await _decoded.Reader.CompleteAsync().ConfigureAwait(false);
        _transport.Input.CancelPendingRead();
        await Completion.ConfigureAwait(false);
    }

    private async Task InboundAsync()
    {
        using var decoder = new SnappyFrameDecoder();
        var source = _transport.Input;
        var target = _decoded.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await source.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                var appGone = false;
                while (true)
                {
                    var decodedAny = false;
                    var full = false;
                    while (!full && decoder.TryDecode(ref buffer, target))
                    {
                        decodedAny = true;

                        // A chunk can expand about twentyfold: stop at the limit and let the application
                        // read before decoding the rest of this read, so highly compressible data from
                        // the peer cannot grow our buffers.
                        full = target.UnflushedBytes >= _maxBufferedBytes;
                    }

                    if (decodedAny && (await target.FlushAsync().ConfigureAwait(false)).IsCompleted)
                    {
                        appGone = true;
                        break;
                    }

                    if (!full)
                    {
                        break;
                    }
                }

                var truncated = result.IsCompleted && !appGone && !buffer.IsEmpty;
                source.AdvanceTo(buffer.Start, buffer.End);
                if (truncated)
                {
                    throw new InvalidDataException("Snappy stream ended inside a chunk.");
                }

                if (appGone || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (InvalidDataException e)
        {
            SnappyInstruments.CorruptStreams.Add(1);
            error = e;

            // A corrupt stream cannot resynchronise: stop the sending side too, so the connection closes.
            _plain.Reader.CancelPendingRead();
        }
        catch (Exception e)
        {
            // Whatever the transport threw, both pipes must complete so neither side waits forever.
            error = e;
        }

        await source.CompleteAsync(error).ConfigureAwait(false);
        await target.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task OutboundAsync()
    {
        using var encoder = new SnappyFrameEncoder();
        await TransformPump.RunAsync(_plain.Reader, _transport.Output, encoder, static (encoder, buffer, target) => encoder.Encode(buffer, target)).ConfigureAwait(false);
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace KcpKestrel.Transport.Kcp.Connections;

/// <summary>
/// The app's end of a connection's input pipe, counting the bytes the app has consumed: what the loop wrote
/// minus this is what the pipe still holds for the session's receive budget (a pipe does not tell).
/// </summary>
internal sealed class ConsumptionCountingReader(PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> _lastRead;
    private long _consumed;
    private volatile bool _completed;

    /// <summary>Bytes the app has consumed so far. Any thread.</summary>
    public long Consumed => Volatile.Read(ref _consumed);

    /// <summary>The app completed its reader: nothing it left in the pipe is held for it any more.</summary>
    public bool IsCompleted => _completed;

    public override bool TryRead(out ReadResult result)
    {
        if (inner.TryRead(out result))
        {
            _lastRead = result.Buffer;
            return true;
        }

        return false;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var read = inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            var result = read.Result;
            _lastRead = result.Buffer;
            return new ValueTask<ReadResult>(result);
        }

        return Remember(read);
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var bytes = _lastRead.Slice(_lastRead.Start, consumed).Length;
        _lastRead = default;
        inner.AdvanceTo(consumed, examined);
        if (bytes > 0)
        {
            Interlocked.Add(ref _consumed, bytes);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        _completed = true;
        _lastRead = default;
        inner.Complete(exception);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> Remember(ValueTask<ReadResult> read)
    {
        var result = await read.ConfigureAwait(false);
        _lastRead = result.Buffer;
        return result;
    }
}

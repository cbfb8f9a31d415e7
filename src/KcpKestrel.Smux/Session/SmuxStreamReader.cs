using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace KcpKestrel.Smux.Session;

/// <summary>A stream's <see cref="SmuxStream.Input"/>: the inbound pipe's reader, reporting what the application consumed (smux's window and buffer accounting).</summary>
internal sealed class SmuxStreamReader(SmuxStream stream, PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> _last;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            _last = result.Buffer;
            return new ValueTask<ReadResult>(result);
        }

        return Remember(pending);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (inner.TryRead(out result))
        {
            _last = result.Buffer;
            return true;
        }

        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var count = _last.Slice(0, consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
        if (count > 0)
        {
            stream.Session.OnConsumed(stream, (int)count);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        stream.Session.OnInputClosed(stream);
    }

    // Pooled: a read that waits for the peer is the steady state of an idle stream, and must not allocate each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> Remember(ValueTask<ReadResult> pending)
    {
        var result = await pending.ConfigureAwait(false);
        _last = result.Buffer;
        return result;
    }
}

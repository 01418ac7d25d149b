import { emptyShareForm, readShareForm } from './share-form';

describe('share form', () => {
  it('builds the create body: every model when none is picked, only the bounds given', () => {
    expect(readShareForm({ ...emptyShareForm(), subject: ' nightly ', scope: 'client', maxPercent: '30' }).body).toEqual({ scope: 'client', subject: 'nightly', maxPercent: 30 });
    expect(readShareForm({ scope: 'group', subject: 'support', modelId: 'm1', minPercent: 20, maxPercent: '' }).body).toEqual({ scope: 'group', subject: 'support', modelId: 'm1', minPercent: 20 });
    expect(readShareForm({ ...emptyShareForm(), subject: 's', minPercent: '0', maxPercent: '100' }).body).toMatchObject({ minPercent: 0, maxPercent: 100 });
  });

  it('says what the API would refuse', () => {
    expect(readShareForm(emptyShareForm()).errors).toEqual({ subject: 'subjectRequired', bounds: 'needBound' });
    expect(readShareForm({ ...emptyShareForm(), subject: 's', maxPercent: '101' }).errors).toEqual({ maxPercent: 'percentRange' });
    expect(readShareForm({ ...emptyShareForm(), subject: 's', minPercent: '-1' }).errors).toEqual({ minPercent: 'percentRange' });
    expect(readShareForm({ ...emptyShareForm(), subject: 's', minPercent: '40', maxPercent: '30' }).errors).toEqual({ minPercent: 'minAboveMax' });
    expect(readShareForm({ ...emptyShareForm(), subject: 'x'.repeat(201), maxPercent: 5 }).errors).toEqual({ subject: 'subjectInvalid' });
  });
});
